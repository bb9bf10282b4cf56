//! `/admin/settings`: admins edit the site's name, tagline, "follow us" links
//! and publishing policy.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;

use crate::admin::session::Staff;
use crate::admin::{page_with_status, render, see_other, PageForm};
use crate::app::AppState;
use crate::error::AppError;
use crate::settings::{is_acceptable_link, NETWORKS};

#[derive(Serialize)]
struct LinkField {
    key: &'static str,
    label: &'static str,
    hint: &'static str,
    value: String,
    problem: bool,
}

async fn show(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    values: &std::collections::HashMap<String, String>,
    problems: Vec<String>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let links: Vec<LinkField> = NETWORKS
        .iter()
        .map(|network| {
            let value = values.get(&format!("follow.{}", network.key)).cloned().unwrap_or_default();
            LinkField {
                key: network.key,
                label: network.label,
                hint: network.host_hint,
                problem: !value.is_empty() && !is_acceptable_link(&value),
                value,
            }
        })
        .collect();
    let library: Vec<minijinja::Value> = state
        .store
        .media(60)
        .await?
        .into_iter()
        .map(|row| minijinja::context! { path => row.path.clone(), label => if row.caption.is_empty() { row.path } else { row.caption } })
        .collect();
    let html = render(
        state,
        staff,
        "admin/settings.html",
        "settings",
        minijinja::context! {
            site_name => values.get("site_name").cloned().unwrap_or_default(),
            site_description => values.get("site_description").cloned().unwrap_or_default(),
            authors_may_publish => values.get("authors_may_publish").is_some_and(|value| value == "true"),
            require_two_factor => values.get("require_two_factor").is_some_and(|value| value == "true"),
            feed_summary_only => values.get("feed_full_text").is_some_and(|value| value == "false"),
            news_publication_name => values.get("news_publication_name").cloned().unwrap_or_default(),
            links => links,
            problems => problems,
            notice => notice,
            timezone => values.get("timezone").cloned().unwrap_or_default(),
            digits => values.get("digits").cloned().unwrap_or_default(),
            base_url => values.get("base_url").cloned().unwrap_or_default(),
            logo => values.get("logo").cloned().unwrap_or_default(),
            library => library,
            file_timezone => state.config.timezone.clone(),
            file_digits => state.config.digits.clone(),
            file_base_url => state.config.base_url.clone(),
            file_name => state.config.site_name.clone(),
            file_description => state.config.site_description.clone(),
        },
    )?;
    Ok(page_with_status(status, html))
}

pub async fn settings_page(State(state): State<AppState>, staff: Staff, uri: Uri) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    let values = state.store.settings_map().await?;
    let notice = crate::web::query_params(&uri).get("saved").map(|_| "حُفظت الإعدادات وظهرت على الموقع.");
    show(&state, &staff, StatusCode::OK, &values, Vec::new(), notice).await
}

pub async fn save_settings(
    State(state): State<AppState>,
    staff: Staff,
    PageForm(form): PageForm<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    staff.require(staff.role().manages_site())?;
    staff.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let field = |key: &str| form.get(key).map(|value| value.trim().to_owned()).unwrap_or_default();
    let mut values: Vec<(String, String)> = vec![
        ("site_name".to_owned(), field("site_name")),
        ("site_description".to_owned(), field("site_description")),
        (
            "authors_may_publish".to_owned(),
            if form.contains_key("authors_may_publish") { "true".into() } else { String::new() },
        ),
        (
            "require_two_factor".to_owned(),
            if form.contains_key("require_two_factor") { "true".into() } else { String::new() },
        ),
        // Full text is the default; only the choice of summaries is stored.
        (
            "feed_full_text".to_owned(),
            if form.contains_key("feed_summary_only") { "false".into() } else { String::new() },
        ),
        ("news_publication_name".to_owned(), field("news_publication_name")),
    ];
    let mut problems = Vec::new();
    let timezone = field("timezone");
    if !timezone.is_empty() && jiff::tz::TimeZone::get(&timezone).is_err() {
        problems.push(format!("المنطقة الزمنية «{timezone}» غير معروفة. اكتبها بصيغة IANA مثل Asia/Damascus."));
    }
    let digits = field("digits");
    if !digits.is_empty() && digits != "latin" && digits != "arabic" {
        problems.push("اختر نمط الأرقام: لاتينية أو عربية مشرقية.".to_owned());
    }
    let base_url = field("base_url");
    if !base_url.is_empty() && !is_acceptable_link(&base_url) {
        problems.push("رابط الموقع يجب أن يبدأ بـ https:// أو http:// ويحوي اسم نطاق.".to_owned());
    }
    let logo = field("logo");
    if !logo.is_empty() && !logo.starts_with(crate::media::UPLOADS_URL) {
        problems.push("اختر الشعار من مكتبة الصور.".to_owned());
    }
    values.push(("timezone".to_owned(), timezone));
    values.push(("digits".to_owned(), digits));
    values.push(("base_url".to_owned(), base_url));
    values.push(("logo".to_owned(), logo));
    if field("site_name").chars().count() > 100 {
        problems.push("اسم الموقع أطول من ١٠٠ حرف.".to_owned());
    }
    if field("news_publication_name").chars().count() > 100 {
        problems.push("اسم المطبوعة في خريطة أخبار Google أطول من ١٠٠ حرف.".to_owned());
    }
    if field("site_description").chars().count() > 300 {
        problems.push("الوصف أطول من ٣٠٠ حرف.".to_owned());
    }
    for network in NETWORKS {
        let key = format!("follow.{}", network.key);
        let value = field(&key);
        if !value.is_empty() && !is_acceptable_link(&value) {
            problems
                .push(format!("رابط {} يجب أن يبدأ بـ https:// (مثل https://{}/…).", network.label, network.host_hint));
        }
        values.push((key, value));
    }
    if !problems.is_empty() {
        let typed = values.into_iter().collect();
        return show(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, &typed, problems, None).await;
    }
    state.store.save_settings(&values).await?;
    state.reload_settings().await.map_err(|error| AppError::Internal(error.to_string()))?;
    state.content_changed();
    staff.audit(&state, "settings.save", "").await;
    Ok(see_other("/admin/settings?saved=1"))
}
