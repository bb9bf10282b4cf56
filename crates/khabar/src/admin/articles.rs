//! Writing and publishing: the article list, the editor, revisions.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::accounts::staff::Role;
use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other, PageForm};
use crate::app::AppState;
use crate::articles::admin_store::{AdminArticleRow, AdminFilter, StatusFilter};
use crate::articles::api::{validate, ArticleInput, FeaturedImageInput};
use crate::articles::markdown;
use crate::articles::pages::parse_id;
use crate::articles::store::{ArticleRow, Saver, UpdateOutcome, TAG_SEPARATOR};
use crate::error::AppError;
use crate::store::now_seconds;
use crate::web::{article_path, page_count, page_number, query_params, raw_segment};

const PAGE_SIZE: u32 = 30;

#[derive(Debug, Serialize)]
pub struct AdminArticleView {
    pub id: i64,
    pub title: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub section: String,
    pub creator: String,
    pub updated: String,
    pub published: String,
    pub edit_url: String,
    pub public_url: Option<String>,
}

/// The four states a newsroom talks about, from the stored status and times.
fn state_of(
    status: &str,
    published_at: Option<i64>,
    review_requested_at: Option<i64>,
    now: i64,
) -> (&'static str, &'static str) {
    match (status, published_at, review_requested_at) {
        ("published", Some(at), _) if at > now => ("scheduled", "مجدول"),
        ("published", _, _) => ("published", "منشور"),
        (_, _, Some(_)) => ("review", "بانتظار المراجعة"),
        _ => ("draft", "مسودة"),
    }
}

fn view_of(state: &AppState, row: AdminArticleRow, now: i64) -> AdminArticleView {
    let (status, status_label) = state_of(&row.status, row.published_at, row.review_requested_at, now);
    let updated = state.locale().date(row.updated_at);
    let published =
        row.published_at.map(|at| state.locale().date(at)).map(|date| format!("{}، {}", date.gregorian, date.time));
    AdminArticleView {
        id: row.id,
        edit_url: format!("/admin/articles/{}", row.id),
        public_url: (status == "published").then(|| article_path(row.id, &row.slug)),
        title: row.title,
        status,
        status_label,
        section: row.section_name,
        creator: row.creator_name.unwrap_or_else(|| "—".to_owned()),
        updated: format!("{}، {}", updated.gregorian, updated.time),
        published: published.unwrap_or_default(),
    }
}

pub async fn article_rows(
    state: &AppState,
    filter: &AdminFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<AdminArticleView>, i64), AppError> {
    let now = now_seconds();
    let (rows, total) = state.store.admin_articles(filter, now, offset, limit).await?;
    Ok((rows.into_iter().map(|row| view_of(state, row, now)).collect(), total))
}

/// Authors and contributors see and touch only their own articles.
fn own_only(staff: &Staff) -> Option<i64> {
    (!staff.role().edits_all_articles()).then(|| staff.id())
}

pub async fn list(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    let params = query_params(&uri);
    let status_key = params.get("status").cloned().unwrap_or_default();
    let page = page_number(&params)?;
    let filter = AdminFilter { status: StatusFilter::parse(&status_key), created_by: own_only(&staff) };
    let offset = i64::from(page - 1) * i64::from(PAGE_SIZE);
    let (articles, total) = article_rows(&state, &filter, offset, i64::from(PAGE_SIZE)).await?;
    let pages = page_count(total, PAGE_SIZE);
    let html = render(
        &state,
        &staff,
        "admin/articles.html",
        "articles",
        minijinja::context! {
            articles => articles,
            status => status_key,
            page => page,
            pages => pages,
            total => state.locale().count(total.unsigned_abs(), &khabar_arabic::plural::ARTICLES),
        },
    )?;
    Ok(Html(html).into_response())
}

/// What the editor form sends. Deliberately no author, role or creator
/// fields: those come from the session, so a crafted form cannot set them.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
pub struct EditorForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub body_markdown: String,
    #[serde(default)]
    pub section: String,
    #[serde(default)]
    pub tags: String,
    /// Absent when the writer may not choose authors (the field is not shown).
    #[serde(default)]
    pub authors: Option<String>,
    #[serde(default)]
    pub breaking: Option<String>,
    /// Readers may no longer comment (only editors and admins see the box).
    #[serde(default)]
    pub comments_closed: Option<String>,
    #[serde(default)]
    pub image_url: String,
    #[serde(default)]
    pub image_caption: String,
    #[serde(default)]
    pub image_credit: String,
    #[serde(default)]
    pub publish_at: String,
    #[serde(default)]
    pub seo_description: String,
    #[serde(default)]
    pub social_image: String,
    /// A library image chosen in the editor; it fills the image fields.
    #[serde(default)]
    pub media_id: String,
    #[serde(default)]
    pub revision: String,
    #[serde(default, skip_serializing)]
    pub action: String,
    #[serde(default, skip_serializing)]
    pub csrf: String,
}

fn split_names(text: &str) -> Vec<String> {
    text.split([',', '،', '\n']).map(str::trim).filter(|name| !name.is_empty()).map(str::to_owned).collect()
}

#[derive(Serialize)]
struct DiffLine {
    kind: &'static str,
    text: String,
}

fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    similar::TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| DiffLine {
            kind: match change.tag() {
                similar::ChangeTag::Equal => "same",
                similar::ChangeTag::Insert => "added",
                similar::ChangeTag::Delete => "removed",
            },
            text: change.value().trim_end_matches('\n').to_owned(),
        })
        .collect()
}

#[derive(Serialize)]
struct Conflict {
    saved_by: String,
    title: String,
    title_changed: bool,
    body_diff: Vec<DiffLine>,
}

#[derive(Serialize, Default)]
struct Permissions {
    publish: bool,
    unpublish: bool,
    choose_authors: bool,
}

async fn may_publish(state: &AppState, role: Role) -> Result<bool, AppError> {
    Ok(match role {
        Role::Admin | Role::Editor => true,
        Role::Author => state.settings().authors_may_publish,
        Role::Contributor => false,
    })
}

struct EditorPage<'a> {
    article: Option<&'a ArticleRow>,
    form: EditorForm,
    problems: BTreeMap<String, String>,
    notice: Option<&'static str>,
    conflict: Option<Conflict>,
    preview_html: String,
}

async fn render_editor(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    page: EditorPage<'_>,
) -> Result<Response, AppError> {
    let now = now_seconds();
    let sections: Vec<String> = state.store.sections(now).await?.into_iter().map(|section| section.name).collect();
    let tags: Vec<String> = state.store.tags(now).await?.into_iter().map(|tag| tag.name).collect();
    let media: Vec<minijinja::Value> = state
        .store
        .media(60)
        .await?
        .into_iter()
        .map(|row| minijinja::context! { id => row.id, path => row.path, label => if row.caption.is_empty() { row.path.clone() } else { row.caption.clone() } })
        .collect();
    let publish = may_publish(state, staff.role()).await?;
    let permissions = Permissions { publish, unpublish: publish, choose_authors: staff.role().edits_all_articles() };
    let (status_key, status_label) = page
        .article
        .map(|row| state_of(&row.status, row.published_at, row.review_requested_at, now))
        .unwrap_or(("new", "جديد"));
    let public_url = page.article.filter(|row| row.is_visible(now)).map(|row| article_path(row.id, &row.slug));
    let html = render(
        state,
        staff,
        "admin/editor.html",
        "articles",
        minijinja::context! {
            article_id => page.article.map(|row| row.id),
            form => page.form,
            problems => page.problems,
            notice => page.notice,
            conflict => page.conflict,
            preview_html => page.preview_html,
            sections => sections,
            tags => tags,
            media => media,
            permissions => permissions,
            status => status_key,
            status_label => status_label,
            public_url => public_url,
            timezone => state.config.timezone.clone(),
        },
    )?;
    Ok(page_with_status(status, html))
}

async fn form_from_article(state: &AppState, row: &ArticleRow) -> Result<EditorForm, AppError> {
    let tags = state.store.tags_of(&[row.id]).await?;
    let authors = state.store.authors_of(&[row.id]).await?;
    let publish_at = row
        .published_at
        .map(|at| state.locale().zoned(at).datetime().strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default();
    Ok(EditorForm {
        title: row.title.clone(),
        summary: row.summary.clone(),
        body_markdown: row.body_markdown.clone(),
        section: row.section_name.clone(),
        tags: tags.iter().map(|tag| tag.name.as_str()).collect::<Vec<_>>().join("، "),
        authors: Some(authors.iter().map(|author| author.name.as_str()).collect::<Vec<_>>().join("، ")),
        breaking: row.breaking.then(|| "on".to_owned()),
        comments_closed: row.comments_closed.then(|| "on".to_owned()),
        image_url: row.featured_image.clone().unwrap_or_default(),
        image_caption: row.featured_caption.clone(),
        image_credit: row.featured_credit.clone(),
        publish_at,
        media_id: String::new(),
        seo_description: row.seo_description.clone(),
        social_image: row.social_image.clone().unwrap_or_default(),
        revision: row.revision.to_string(),
        action: String::new(),
        csrf: String::new(),
    })
}

/// The article when this staff member may open it; someone else's article
/// is "not found" to authors and contributors, not "forbidden".
async fn article_for(state: &AppState, staff: &Staff, uri: &Uri) -> Result<ArticleRow, AppError> {
    let id = raw_segment(uri, 2).and_then(parse_id).ok_or(AppError::NotFound)?;
    let row = state.store.article_by_id(id).await?.ok_or(AppError::NotFound)?;
    if !staff.role().edits_all_articles() && row.created_by != Some(staff.id()) {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

pub async fn new_article(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let form = EditorForm { authors: Some(staff.name().to_owned()), ..EditorForm::default() };
    let page = EditorPage {
        article: None,
        form,
        problems: BTreeMap::new(),
        notice: None,
        conflict: None,
        preview_html: String::new(),
    };
    render_editor(&state, &staff, StatusCode::OK, page).await
}

pub async fn edit(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    let row = article_for(&state, &staff, &uri).await?;
    let form = form_from_article(&state, &row).await?;
    let notice = match query_params(&uri).get("saved").map(String::as_str) {
        Some("draft") => Some("حُفظت المسودة."),
        Some("review") => Some("أُرسل المقال إلى المحررين للمراجعة."),
        Some("published") => Some("نُشر المقال."),
        Some("scheduled") => Some("جُدول المقال للنشر في الموعد المحدد."),
        Some("unpublished") => Some("أُلغي نشر المقال وأصبح مسودة."),
        Some("restored") => Some("استُعيدت النسخة المختارة كنسخة جديدة."),
        Some(_) => Some("حُفظت التغييرات."),
        None => None,
    };
    let preview_html = row.body_html.clone();
    let page =
        EditorPage { article: Some(&row), form, problems: BTreeMap::new(), notice, conflict: None, preview_html };
    render_editor(&state, &staff, StatusCode::OK, page).await
}

/// What an editor button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Preview,
    Save,
    Submit,
    Publish,
    Schedule,
    Unpublish,
}

fn intent(action: &str) -> Result<Intent, AppError> {
    Ok(match action {
        "preview" => Intent::Preview,
        "save" | "" => Intent::Save,
        "submit" => Intent::Submit,
        "publish" => Intent::Publish,
        "schedule" => Intent::Schedule,
        "unpublish" => Intent::Unpublish,
        other => return Err(AppError::BadRequest(format!("unknown action '{other}'"))),
    })
}

/// Arabic words for the fields `validate` names.
fn arabic_problem(field: &str) -> &'static str {
    match field {
        "title" => "العنوان مطلوب، وبحد أقصى ٣٠٠ حرف.",
        "body_markdown" => "نص المقال مطلوب.",
        "summary" => "الملخص أطول من المسموح (١٠٠٠ حرف).",
        "section" => "اختر قسمًا أو اكتب اسم قسم جديد.",
        "tags" => "في الوسوم اسم غير صالح أو عدد أكبر من ٣٠.",
        "authors" => "في أسماء الكتّاب اسم غير صالح.",
        "published_at" => "موعد النشر غير صالح.",
        "featured_image.url" => "رابط الصورة يجب أن يبدأ بـ / أو https://.",
        "seo_description" => "وصف محركات البحث أطول من ٣٠٠ حرف.",
        "social_image" => "رابط صورة المشاركة يجب أن يبدأ بـ / أو https://.",
        _ => "قيمة غير صالحة.",
    }
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<EditorForm>,
) -> Result<Response, AppError> {
    save_form(state, staff, None, form).await
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    PageForm(form): PageForm<EditorForm>,
) -> Result<Response, AppError> {
    let row = article_for(&state, &staff, &uri).await?;
    save_form(state, staff, Some(row), form).await
}

async fn save_form(
    state: AppState,
    staff: Staff,
    article: Option<ArticleRow>,
    form: EditorForm,
) -> Result<Response, AppError> {
    staff.check_csrf(&form.csrf)?;
    let intent = intent(&form.action)?;
    let now = now_seconds();
    let before = match &article {
        Some(row) => crate::articles::changes::snapshot(&state, row.id).await?,
        None => None,
    };
    let can_publish = may_publish(&state, staff.role()).await?;
    let currently_public = article.as_ref().is_some_and(|row| row.status == "published");
    // Who may do what: contributors and authors without the right to publish
    // write drafts and ask for review; they cannot touch what is published.
    let needs_publish_right = matches!(intent, Intent::Publish | Intent::Schedule | Intent::Unpublish)
        || (currently_public && intent == Intent::Save);
    if needs_publish_right && !can_publish {
        return Err(AppError::Forbidden("your role may not publish or change published articles".into()));
    }
    let reject = |problems: BTreeMap<String, String>, form: EditorForm| EditorPage {
        article: article.as_ref(),
        preview_html: markdown::render(&form.body_markdown).html,
        form,
        problems,
        notice: None,
        conflict: None,
    };
    if intent == Intent::Preview {
        let page = reject(BTreeMap::new(), form.clone());
        return render_editor(&state, &staff, StatusCode::OK, page).await;
    }
    let mut problems = BTreeMap::new();
    let requested_time = match form.publish_at.trim() {
        "" => None,
        text => match text
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|local| local.to_zoned(state.locale().time_zone().clone()).ok())
        {
            Some(zoned) => Some(zoned.timestamp()),
            None => {
                problems.insert("published_at".to_owned(), "اكتب موعد النشر بصيغة التاريخ والوقت.".to_owned());
                None
            }
        },
    };
    let (status, published_at, review_requested) = match intent {
        Intent::Publish => {
            let keep_original = article.as_ref().and_then(|row| row.published_at).filter(|at| *at <= now);
            ("published", Some(keep_original.unwrap_or(now)), false)
        }
        Intent::Schedule => match requested_time {
            Some(at) if at.as_second() > now => ("published", Some(at.as_second()), false),
            _ => {
                problems.insert("published_at".to_owned(), "للجدولة اختر موعدًا في المستقبل.".to_owned());
                ("draft", None, false)
            }
        },
        Intent::Unpublish => ("draft", article.as_ref().and_then(|row| row.published_at), false),
        Intent::Submit => ("draft", None, true),
        Intent::Save | Intent::Preview => match &article {
            Some(row) if row.status == "published" => ("published", row.published_at, false),
            Some(row) => ("draft", None, row.review_requested_at.is_some()),
            None => ("draft", None, false),
        },
    };
    let chosen = form.authors.as_deref().filter(|_| staff.role().edits_all_articles());
    let authors = if let Some(chosen) = chosen {
        split_names(chosen)
    } else {
        match &article {
            Some(row) => state.store.authors_of(&[row.id]).await?.into_iter().map(|author| author.name).collect(),
            None => vec![staff.name().to_owned()],
        }
    };
    let input = ArticleInput {
        title: Some(form.title.clone()),
        body_markdown: Some(form.body_markdown.clone()),
        summary: Some(form.summary.clone()),
        section: Some(form.section.clone()),
        tags: Some(split_names(&form.tags)),
        authors: Some(authors),
        status: Some(status.to_owned()),
        published_at: published_at.and_then(|at| jiff::Timestamp::from_second(at).ok()).map(|at| at.to_string()),
        breaking: Some(form.breaking.is_some()),
        featured_image: Some(FeaturedImageInput {
            url: form.image_url.clone(),
            caption: form.image_caption.clone(),
            credit: form.image_credit.clone(),
        }),
        seo_description: Some(form.seo_description.clone()),
        social_image: Some(form.social_image.clone()),
    };
    let mut input = input;
    if let Some(media) = match form.media_id.trim().parse::<i64>() {
        Ok(id) => state.store.media_by_id(id).await?,
        Err(_) => None,
    } {
        let pick =
            |typed: &str, stored: &str| if typed.trim().is_empty() { stored.to_owned() } else { typed.to_owned() };
        input.featured_image = Some(FeaturedImageInput {
            url: media.path.clone(),
            caption: pick(&form.image_caption, &media.caption),
            credit: pick(&form.image_credit, &media.credit),
        });
    }
    let saver = Saver { staff_id: Some(staff.id()), name: staff.name().to_owned() };
    let write = match validate(input, article.as_ref(), now, saver) {
        Ok(mut write) if problems.is_empty() => {
            write.review_requested = review_requested;
            write
        }
        Ok(_) => return render_editor(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, reject(problems, form)).await,
        Err(AppError::Validation { fields, .. }) => {
            for field in fields.keys() {
                problems.insert(field.clone(), arabic_problem(field).to_owned());
            }
            return render_editor(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, reject(problems, form)).await;
        }
        Err(other) => return Err(other),
    };
    let saved_word = match intent {
        Intent::Publish => "published",
        Intent::Schedule => "scheduled",
        Intent::Unpublish => "unpublished",
        Intent::Submit => "review",
        _ if status == "published" => "updated",
        _ => "draft",
    };
    let id = match &article {
        None => state.store.create_article(&write, now).await?,
        Some(row) => {
            let expected = form.revision.trim().parse::<i64>().unwrap_or(row.revision);
            match state.store.update_article(row.id, &write, now, Some(expected)).await? {
                UpdateOutcome::Updated { .. } => row.id,
                UpdateOutcome::NotFound => return Err(AppError::NotFound),
                UpdateOutcome::Conflict { current_revision } => {
                    return show_conflict(&state, &staff, row.id, current_revision, form).await;
                }
            }
        }
    };
    if staff.role().edits_all_articles() {
        let closed = form.comments_closed.is_some();
        let was_closed = article.as_ref().is_some_and(|row| row.comments_closed);
        if closed != was_closed {
            state.store.set_comments_closed(id, closed).await?;
            let what = if closed { "comments.close" } else { "comments.open" };
            staff.audit(&state, what, &format!("#{id}")).await;
        }
    }
    staff.audit(&state, &format!("article.{saved_word}"), &format!("#{id} {}", write.title)).await;
    crate::articles::changes::article_changed(&state, before.as_ref(), id).await;
    Ok(see_other(&format!("/admin/articles/{id}?saved={saved_word}")))
}

/// Someone saved first: show their version beside this one, keep what this
/// writer typed, and let a second click save over it knowingly.
async fn show_conflict(
    state: &AppState,
    staff: &Staff,
    id: i64,
    current_revision: i64,
    mut form: EditorForm,
) -> Result<Response, AppError> {
    let current = state.store.article_by_id(id).await?.ok_or(AppError::NotFound)?;
    let saved_by = state
        .store
        .revisions(id)
        .await?
        .into_iter()
        .find(|revision| revision.revision == current_revision)
        .map(|revision| revision.saved_by)
        .unwrap_or_default();
    let conflict = Conflict {
        saved_by,
        title_changed: current.title != form.title,
        title: current.title.clone(),
        body_diff: line_diff(&current.body_markdown, &form.body_markdown),
    };
    form.revision = current_revision.to_string();
    let preview_html = markdown::render(&form.body_markdown).html;
    let page = EditorPage {
        article: Some(&current),
        form,
        problems: BTreeMap::new(),
        notice: None,
        conflict: Some(conflict),
        preview_html,
    };
    render_editor(state, staff, StatusCode::CONFLICT, page).await
}

#[derive(Serialize)]
struct RevisionView {
    revision: i64,
    saved_by: String,
    saved_at: String,
    title: String,
    status: String,
}

pub async fn revisions(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    let row = article_for(&state, &staff, &uri).await?;
    let all = state.store.revisions(row.id).await?;
    let params = query_params(&uri);
    let pick =
        |name: &str, fallback: Option<i64>| params.get(name).and_then(|value| value.parse::<i64>().ok()).or(fallback);
    let newest = all.first().map(|revision| revision.revision);
    let to = pick("to", newest);
    let from = pick("from", to.map(|to| to - 1));
    let find = |number: Option<i64>| number.and_then(|number| all.iter().find(|revision| revision.revision == number));
    let comparison = match (find(from), find(to)) {
        (Some(old), Some(new)) => Some(minijinja::context! {
            from => old.revision,
            to => new.revision,
            title_diff => line_diff(&old.title, &new.title),
            summary_diff => line_diff(&old.summary, &new.summary),
            body_diff => line_diff(&old.body_markdown, &new.body_markdown),
            tags_diff => line_diff(&old.tag_names, &new.tag_names),
        }),
        _ => None,
    };
    let views: Vec<RevisionView> = all
        .iter()
        .map(|revision| {
            let date = state.locale().date(revision.saved_at);
            RevisionView {
                revision: revision.revision,
                saved_by: revision.saved_by.clone(),
                saved_at: format!("{}، {}", date.gregorian, date.time),
                title: revision.title.clone(),
                status: revision.status.clone(),
            }
        })
        .collect();
    let html = render(
        &state,
        &staff,
        "admin/revisions.html",
        "articles",
        minijinja::context! { article_id => row.id, article_title => row.title, current => row.revision, revisions => views, comparison => comparison },
    )?;
    Ok(Html(html).into_response())
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Restoring writes the old content as a new revision; nothing is lost.
pub async fn restore(
    State(state): State<AppState>,
    staff: Staff,
    uri: Uri,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, AppError> {
    staff.check_csrf(&form.csrf)?;
    let row = article_for(&state, &staff, &uri).await?;
    if row.status == "published" && !may_publish(&state, staff.role()).await? {
        return Err(AppError::Forbidden("your role may not change published articles".into()));
    }
    let number = raw_segment(&uri, 4).and_then(|raw| raw.parse::<i64>().ok()).ok_or(AppError::NotFound)?;
    let before = crate::articles::changes::snapshot(&state, row.id).await?;
    let old = state
        .store
        .revisions(row.id)
        .await?
        .into_iter()
        .find(|revision| revision.revision == number)
        .ok_or(AppError::NotFound)?;
    let authors: Vec<String> = state.store.authors_of(&[row.id]).await?.into_iter().map(|author| author.name).collect();
    let input = ArticleInput {
        title: Some(old.title.clone()),
        body_markdown: Some(old.body_markdown.clone()),
        summary: Some(old.summary.clone()),
        section: Some(old.section_name.clone()),
        tags: Some(old.tag_names.split(TAG_SEPARATOR).filter(|name| !name.is_empty()).map(str::to_owned).collect()),
        authors: Some(authors),
        status: Some(row.status.clone()),
        published_at: row.published_at.and_then(|at| jiff::Timestamp::from_second(at).ok()).map(|at| at.to_string()),
        breaking: Some(row.breaking),
        featured_image: row.featured_image.clone().map(|url| FeaturedImageInput {
            url,
            caption: row.featured_caption.clone(),
            credit: row.featured_credit.clone(),
        }),
        seo_description: Some(row.seo_description.clone()),
        social_image: row.social_image.clone(),
    };
    let now = now_seconds();
    let mut write =
        validate(input, Some(&row), now, Saver { staff_id: Some(staff.id()), name: staff.name().to_owned() })?;
    write.review_requested = row.review_requested_at.is_some();
    match state.store.update_article(row.id, &write, now, Some(row.revision)).await? {
        UpdateOutcome::Updated { .. } => {}
        UpdateOutcome::NotFound => return Err(AppError::NotFound),
        UpdateOutcome::Conflict { .. } => {
            return Err(AppError::BadRequest("the article changed meanwhile; try again".into()))
        }
    }
    staff.audit(&state, "article.restore", &format!("#{} ← {number}", row.id)).await;
    crate::articles::changes::article_changed(&state, before.as_ref(), row.id).await;
    Ok(see_other(&format!("/admin/articles/{}?saved=restored", row.id)))
}

#[derive(Deserialize)]
pub struct PreviewForm {
    #[serde(default)]
    body_markdown: String,
    #[serde(default)]
    csrf: String,
}

/// The live preview: the same renderer and sanitizer as the public page.
pub async fn preview(staff: Staff, PageForm(form): PageForm<PreviewForm>) -> Result<Response, AppError> {
    staff.check_csrf(&form.csrf)?;
    Ok(Html(markdown::render(&form.body_markdown).html).into_response())
}
