//! The newsroom's front page and the activity log.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use crate::admin::articles::{article_rows, AdminArticleView};
use crate::admin::render;
use crate::admin::session::Staff;
use crate::app::AppState;
use crate::articles::admin_store::{AdminFilter, StatusFilter};
use crate::error::AppError;

#[derive(Serialize)]
struct Counts {
    published: String,
    scheduled: String,
    review: String,
    drafts: String,
}

pub async fn dashboard(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let mine = (!staff.role().edits_all_articles()).then(|| staff.id());
    let counts = state.store.article_counts(mine, crate::store::now_seconds()).await?;
    let counts = Counts {
        published: state.locale().number(counts.published),
        scheduled: state.locale().number(counts.scheduled),
        review: state.locale().number(counts.review),
        drafts: state.locale().number(counts.drafts),
    };
    let waiting: Vec<AdminArticleView> = if staff.role().edits_all_articles() {
        let filter = AdminFilter { status: StatusFilter::Review, created_by: None };
        article_rows(&state, &filter, 0, 10).await?.0
    } else {
        Vec::new()
    };
    let recent = article_rows(&state, &AdminFilter { status: StatusFilter::All, created_by: mine }, 0, 10).await?.0;
    let html = render(
        &state,
        &staff,
        "admin/dashboard.html",
        "dashboard",
        minijinja::context! { counts => counts, waiting => waiting, recent => recent },
    )?;
    Ok(Html(html).into_response())
}

#[derive(Serialize)]
struct ActivityView {
    who: String,
    action: String,
    subject: String,
    when: String,
}

pub async fn activity(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let entries: Vec<ActivityView> = state
        .store
        .audit_entries(300)
        .await?
        .into_iter()
        .map(|entry| {
            let date = state.locale().date(entry.happened_at);
            ActivityView {
                who: entry.staff_name,
                action: entry.action,
                subject: entry.subject,
                when: format!("{}، {}", date.gregorian, date.time),
            }
        })
        .collect();
    let html = render(&state, &staff, "admin/activity.html", "activity", minijinja::context! { entries => entries })?;
    Ok(Html(html).into_response())
}
