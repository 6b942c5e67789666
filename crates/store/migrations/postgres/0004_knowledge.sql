-- Knowledge articles and their versions. Keep in step with ../sqlite
-- (full-text search differs by design: a tsvector column here, an FTS5 table there).

CREATE TABLE articles (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'review', 'published', 'retired')),
    public BOOLEAN NOT NULL,
    service_id BIGINT REFERENCES services(id),
    version BIGINT NOT NULL,
    author_id BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_at BIGINT,
    search TSVECTOR,
    UNIQUE (tenant_id, number)
);
CREATE INDEX articles_search ON articles USING GIN (search);
CREATE INDEX articles_by_updated ON articles (tenant_id, updated_at, id);
CREATE INDEX articles_by_title ON articles (tenant_id, title, id);
CREATE INDEX articles_by_status ON articles (tenant_id, status, public, id);
CREATE INDEX articles_by_service ON articles (tenant_id, service_id);

CREATE TABLE article_versions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    article_id BIGINT NOT NULL REFERENCES articles(id),
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    author_id BIGINT REFERENCES users(id),
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (article_id, version)
);
