//! Knowledge articles: what the service desk has learned, written down for people and for
//! requesters (ISO/IEC 20000-1 7.6, knowledge).
//!
//! An article moves draft → review → published → retired; a reviewer may send it back from
//! review to draft, and retired is the end. Content is versioned: every change of title or
//! body makes a new version (1, 2, ...), and the article shows the newest one.
//!
//! Editing a published article is allowed and keeps it published: the edit becomes the next
//! version at once, without a second review. This is the simple model; the versions list keeps
//! every earlier text, so nothing published is ever lost.

use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    #[default]
    Draft,
    Review,
    Published,
    Retired,
}

crate::service::text_enum!(ArticleStatus {
    Draft => "draft", Review => "review", Published => "published", Retired => "retired",
});

impl ArticleStatus {
    /// Retired articles no longer change.
    pub fn is_terminal(self) -> bool {
        self == ArticleStatus::Retired
    }

    /// Where an article may go from here.
    pub fn next(self) -> &'static [ArticleStatus] {
        use ArticleStatus::*;
        match self {
            Draft => &[Review],
            Review => &[Published, Draft],
            Published => &[Retired],
            Retired => &[],
        }
    }

    /// Checks a status change against the lifecycle.
    pub fn transition(self, to: ArticleStatus) -> Result<ArticleTransition, ArticleRefusal> {
        if !self.next().contains(&to) {
            return Err(ArticleRefusal {
                from: self,
                to,
                allowed: self.next().to_vec(),
            });
        }
        Ok(ArticleTransition {
            to,
            set_published_at: to == ArticleStatus::Published,
        })
    }
}

/// What an allowed status change implies for the article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArticleTransition {
    pub to: ArticleStatus,
    /// Publishing stamps the time it went out (again, if it was sent back and republished).
    pub set_published_at: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an article cannot go from {from} to {to}")]
pub struct ArticleRefusal {
    pub from: ArticleStatus,
    pub to: ArticleStatus,
    pub allowed: Vec<ArticleStatus>,
}

/// The fields an author edits, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleDraft {
    pub title: String,
    pub body: String,
    /// Whether requesters may read it once it is published.
    pub public: bool,
    pub service_id: Option<i64>,
}

impl ArticleDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, 300);
        self.body = optional_text(&mut errors, "body", "Body", &self.body, 200_000);
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn draft(title: &str, body: &str) -> ArticleDraft {
        ArticleDraft {
            title: title.into(),
            body: body.into(),
            public: false,
            service_id: None,
        }
    }

    #[test]
    fn an_article_needs_a_title_and_a_bounded_body() {
        let err = draft(" ", "").validate().expect_err("blank title");
        assert_eq!(err.message_for("title"), Some("Title is required"));
        let long = "x".repeat(301);
        assert!(draft(&long, "").validate().is_err());
        let huge = "y".repeat(200_001);
        let err = draft("Reset a password", &huge)
            .validate()
            .expect_err("body too long");
        assert!(err.message_for("body").is_some());
        assert_eq!(
            draft(" Reset a password ", "Steps")
                .validate()
                .map(|d| d.title),
            Ok("Reset a password".into())
        );
    }

    #[test]
    fn illegal_moves_name_the_allowed_ones() {
        use ArticleStatus::*;
        assert_eq!(
            Draft.transition(Published),
            Err(ArticleRefusal {
                from: Draft,
                to: Published,
                allowed: vec![Review]
            })
        );
        assert!(Review.transition(Draft).is_ok());
        assert!(Published.transition(Retired).is_ok());
        assert!(Retired.transition(Draft).is_err());
        assert!(Review.transition(Published).expect("ok").set_published_at);
    }

    #[test]
    fn statuses_round_trip() {
        for s in ArticleStatus::ALL {
            assert_eq!(ArticleStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(ArticleStatus::parse("archived"), None);
    }

    fn any_status() -> impl Strategy<Value = ArticleStatus> {
        prop::sample::select(ArticleStatus::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn any_walk_follows_the_lifecycle(steps in prop::collection::vec(any_status(), 0..30)) {
            let mut status = ArticleStatus::Draft;
            let mut was_published = false;
            for to in steps {
                match status.transition(to) {
                    Ok(t) => {
                        prop_assert!(status.next().contains(&to));
                        prop_assert!(!status.is_terminal());
                        prop_assert_eq!(t.set_published_at, to == ArticleStatus::Published);
                        // Only a reviewed article is published.
                        if to == ArticleStatus::Published { prop_assert_eq!(status, ArticleStatus::Review); was_published = true; }
                        status = t.to;
                    }
                    Err(refusal) => {
                        prop_assert_eq!(refusal.allowed, status.next().to_vec());
                        prop_assert_eq!(refusal.from, status);
                    }
                }
                // Only an article that was published can be retired.
                if status == ArticleStatus::Retired { prop_assert!(was_published); }
            }
        }
    }
}
