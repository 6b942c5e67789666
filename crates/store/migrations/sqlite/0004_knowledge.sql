-- Knowledge articles and their versions. Keep in step with ../postgres
-- (full-text search differs by design: an FTS5 table here, a tsvector column there).

CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'review', 'published', 'retired')),
    public BOOLEAN NOT NULL,
    service_id INTEGER REFERENCES services(id),
    version INTEGER NOT NULL,
    author_id INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    published_at INTEGER,
    UNIQUE (tenant_id, number)
);
CREATE INDEX articles_by_updated ON articles (tenant_id, updated_at, id);
CREATE INDEX articles_by_title ON articles (tenant_id, title, id);
CREATE INDEX articles_by_status ON articles (tenant_id, status, public, id);
CREATE INDEX articles_by_service ON articles (tenant_id, service_id);

CREATE TABLE article_versions (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    article_id INTEGER NOT NULL REFERENCES articles(id),
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    author_id INTEGER REFERENCES users(id),
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (article_id, version)
);

CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, tokenize = 'porter unicode61');
