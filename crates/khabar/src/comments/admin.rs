//! `/admin/comments`: the moderation queue (editors and admins), the
//! site's comment settings and erasing a reader's comments (admins).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;

use super::api::{erase_reader, moderate, Moderation};
use super::format::format;
use super::store::CommentTextChange;
use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::now_seconds;

const QUEUE_PAGE: i64 = 50;
const TABS: [(&str, &str); 4] =
    [("pending", "بانتظار المراجعة"), ("approved", "منشورة"), ("spam", "مزعجة"), ("rejected", "مرفوضة")];

/// Why a comment waits, in the editors' words.
pub fn hold_reason_text(held_for: &str) -> &'static str {
    match held_for {
        "moderated" => "كل التعليقات تُراجع",
        "first_comment" => "أول تعليق لهذا القارئ",
        "links" => "فيه رابطان أو أكثر",
        "banned_words" => "فيه كلمة محظورة",
        "unverified" => "أُرسل بسرعة أو دون سكربت الصفحة",
        "reported" => "أبلغ عنه القراء",
        _ => "",
    }
}

fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str()).unwrap_or("")
}

#[derive(Serialize)]
struct Tab {
    status: &'static str,
    label: &'static str,
    count: i64,
}

async fn show_queue(
    state: &AppState,
    staff: &Staff,
    status: &str,
    page: i64,
    notice: Option<String>,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    let counts = state.store.comment_status_counts().await?;
    let tabs: Vec<Tab> = TABS
        .iter()
        .map(|(status, label)| Tab { status, label, count: counts.get(*status).copied().unwrap_or(0) })
        .collect();
    let rows = state.store.moderation_queue(status, QUEUE_PAGE + 1, (page - 1) * QUEUE_PAGE).await?;
    let more = rows.len() as i64 > QUEUE_PAGE;
    let locale = state.locale();
    let comments: Vec<minijinja::Value> = rows
        .into_iter()
        .take(QUEUE_PAGE as usize)
        .map(|queued| {
            minijinja::context! {
                id => queued.comment.id,
                article_id => queued.comment.article_id,
                article_title => queued.article_title,
                is_reply => queued.comment.parent_id.is_some(),
                name => queued.comment.name,
                html => queued.comment.body_html,
                reason => hold_reason_text(&queued.comment.held_for),
                reports => queued.comment.reports,
                editor_note => queued.comment.editor_note,
                date => locale.date(queued.comment.created_at),
            }
        })
        .collect();
    let settings = state.settings();
    let code = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let html = render(
        state,
        staff,
        "admin/comments.html",
        "comments",
        minijinja::context! {
            status => status,
            tabs => tabs,
            comments => comments,
            page => page,
            more => more,
            notice => notice,
            problems => problems,
            mode => settings.comments_mode.clone().unwrap_or_else(|| "first".to_owned()),
            comments_off => settings.comments_off,
            close_after_days => settings.comments_close_after_days,
            banned_words => settings.comment_banned_words.join("\n"),
        },
    )?;
    Ok(page_with_status(code, html))
}

pub async fn queue(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let query = crate::web::query_params(&uri);
    let status = query.get("status").map(String::as_str).unwrap_or("pending");
    let Some((status, _)) = TABS.iter().find(|(known, _)| *known == status) else {
        return Err(AppError::invalid_field("status", "must be pending, approved, spam or rejected"));
    };
    let page = query.get("page").and_then(|page| page.parse::<i64>().ok()).filter(|page| *page >= 1).unwrap_or(1);
    let notice = query.get("done").map(|done| done.to_owned());
    show_queue(&state, &staff, status, page, notice, Vec::new()).await
}

fn moderation_word(action: Moderation) -> &'static str {
    match action {
        Moderation::Approve => "approve",
        Moderation::Reject => "reject",
        Moderation::Spam => "spam",
        Moderation::BanEmail => "ban-email",
        Moderation::BanAddress => "ban-address",
        Moderation::Delete => "delete",
    }
}

fn done_text(action: Moderation, count: usize) -> String {
    let what = match action {
        Moderation::Approve => "نُشر",
        Moderation::Reject => "رُفض",
        Moderation::Spam => "عُدّ مزعجًا",
        Moderation::BanEmail => "حُظر بريد كاتبه",
        Moderation::BanAddress => "حُظر عنوان كاتبه",
        Moderation::Delete => "حُذف",
    };
    format!("{what}: {count}")
}

fn back_to(status: &str, notice: &str) -> Response {
    let status = if TABS.iter().any(|(known, _)| *known == status) { status } else { "pending" };
    let notice: String = form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    see_other(&format!("/admin/comments?status={status}&done={notice}"))
}

/// `POST /admin/comments/bulk`: one action on the ticked comments (fields `id`).
pub async fn bulk(State(state): State<AppState>, staff: Staff, body: Bytes) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let fields = fields(&body);
    staff.check_csrf(field(&fields, "csrf"))?;
    let action = Moderation::parse(field(&fields, "action"))
        .ok_or_else(|| AppError::invalid_field("action", "choose approve, reject, spam or delete"))?;
    let ids: Vec<i64> =
        fields.iter().filter(|(key, _)| key == "id").filter_map(|(_, value)| value.parse().ok()).take(500).collect();
    let by = format!("staff:{}", staff.id());
    let mut done = 0;
    for id in &ids {
        if moderate(&state, *id, action, &by).await?.is_some() {
            done += 1;
        }
    }
    staff.audit(&state, &format!("comments.{}", moderation_word(action)), &format!("{done} comments")).await;
    Ok(back_to(field(&fields, "from"), &done_text(action, done)))
}

/// `POST /admin/comments/{id}/action` (field `action`): one comment, one action.
pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let fields = fields(&body);
    staff.check_csrf(field(&fields, "csrf"))?;
    let action = Moderation::parse(field(&fields, "action"))
        .ok_or_else(|| AppError::invalid_field("action", "unknown action"))?;
    moderate(&state, id, action, &format!("staff:{}", staff.id())).await?.ok_or(AppError::NotFound)?;
    staff.audit(&state, &format!("comments.{}", moderation_word(action)), &format!("#{id}")).await;
    Ok(back_to(field(&fields, "from"), &done_text(action, 1)))
}

async fn show_editor(
    state: &AppState,
    staff: &Staff,
    id: i64,
    body: Option<&str>,
    note: Option<&str>,
    problem: Option<&str>,
) -> Result<Response, AppError> {
    let comment = state.store.comment(id).await?.ok_or(AppError::NotFound)?;
    let html = render(
        state,
        staff,
        "admin/comment_edit.html",
        "comments",
        minijinja::context! {
            id => comment.id,
            article_id => comment.article_id,
            name => comment.name,
            status => comment.status,
            body => body.unwrap_or(&comment.body_markdown),
            note => note.unwrap_or(&comment.editor_note),
            problem => problem,
        },
    )?;
    let code = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(page_with_status(code, html))
}

pub async fn edit(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    show_editor(&state, &staff, id, None, None, None).await
}

/// `POST /admin/comments/{id}`: new text and the editor's note (shown under
/// the comment: readers see that an editor changed it, and why).
pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    staff.require(staff.role().edits_all_articles())?;
    let fields = fields(&body);
    staff.check_csrf(field(&fields, "csrf"))?;
    let comment = state.store.comment(id).await?.ok_or(AppError::NotFound)?;
    let text = field(&fields, "body").trim();
    let note = field(&fields, "note").trim();
    let problem = if text.is_empty() {
        Some("نص التعليق فارغ.")
    } else if text.chars().count() > super::MAX_BODY_CHARS {
        Some("التعليق أطول من ٥٠٠٠ حرف.")
    } else if note.chars().count() > 300 {
        Some("ملاحظة المحرر أطول من ٣٠٠ حرف.")
    } else {
        None
    };
    if problem.is_some() {
        return show_editor(&state, &staff, id, Some(text), Some(note), problem).await;
    }
    let formatted = format(text);
    state
        .store
        .update_comment_text(
            id,
            &CommentTextChange {
                body_markdown: text,
                body_html: &formatted.html,
                status: &comment.status,
                held_for: &comment.held_for,
                editor_note: note,
            },
            now_seconds(),
        )
        .await?;
    if comment.status == "approved" {
        state.changed(vec![crate::cache::tags::article(comment.article_id)]);
    }
    staff.audit(&state, "comments.edit", &format!("#{id}")).await;
    Ok(back_to(&comment.status, "حُفظ التعليق"))
}

/// `POST /admin/comments/settings` (admins): the mode, comments off, closing
/// after N days, and the banned words.
pub async fn save_settings(State(state): State<AppState>, staff: Staff, body: Bytes) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let fields = fields(&body);
    staff.check_csrf(field(&fields, "csrf"))?;
    let mode = field(&fields, "mode");
    let mut problems = Vec::new();
    if !["moderated", "first", "open"].contains(&mode) {
        problems.push("اختر طريقة نشر التعليقات.".to_owned());
    }
    let days = field(&fields, "close_after_days").trim();
    let days = khabar_arabic::digits::to_ascii(days);
    if !days.is_empty() && !days.parse::<i64>().is_ok_and(|days| (1..=3650).contains(&days)) {
        problems.push("عدد الأيام قبل إغلاق التعليقات عدد صحيح بين ١ و٣٦٥٠، أو فارغ.".to_owned());
    }
    let banned = field(&fields, "banned_words");
    if banned.chars().count() > 20_000 {
        problems.push("قائمة الكلمات المحظورة أطول من ٢٠٠٠٠ حرف.".to_owned());
    }
    if !problems.is_empty() {
        return show_queue(&state, &staff, "pending", 1, None, problems).await;
    }
    let values = vec![
        ("comments_mode".to_owned(), mode.to_owned()),
        (
            "comments_off".to_owned(),
            if field(&fields, "comments_off").is_empty() { String::new() } else { "true".into() },
        ),
        ("comments_close_after_days".to_owned(), days),
        ("comment_banned_words".to_owned(), banned.trim().to_owned()),
    ];
    state.store.save_settings(&values).await?;
    state.reload_settings().await.map_err(|error| AppError::Internal(error.to_string()))?;
    state.content_changed();
    staff.audit(&state, "comments.settings", mode).await;
    Ok(back_to("pending", "حُفظت إعدادات التعليقات"))
}

/// `POST /admin/comments/erase` (admins): deletes every comment written with an email.
pub async fn erase(State(state): State<AppState>, staff: Staff, body: Bytes) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let fields = fields(&body);
    staff.check_csrf(field(&fields, "csrf"))?;
    let email = field(&fields, "email");
    let erased = match erase_reader(&state, email).await {
        Ok(erased) => erased,
        Err(AppError::Validation { .. }) => {
            let problems = vec!["اكتب بريد القارئ كاملًا، مثل name@example.com.".to_owned()];
            return show_queue(&state, &staff, "pending", 1, None, problems).await;
        }
        Err(error) => return Err(error),
    };
    staff.audit(&state, "comments.erase", &format!("{erased} comments")).await;
    Ok(back_to("pending", &format!("حُذفت تعليقات القارئ: {erased}")))
}
