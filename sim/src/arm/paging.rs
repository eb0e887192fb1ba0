//! ARM list paging: a page of at most `ARM_LIST_PAGE_SIZE` items (`$top` caps it lower),
//! with an absolute `nextLink` carrying `$skiptoken` (the offset) when more remain.

use crate::arm::error::ArmResult;
use crate::arm::request::ArmRequest;
use crate::core::error::Error;
use crate::limits;

/// One page of a list, with an absolute `nextLink` when more remain (`$skiptoken` is the
/// offset; `$top` caps the page).
pub fn page(req: &ArmRequest, items: Vec<serde_json::Value>) -> ArmResult<serde_json::Value> {
    let total = items.len();
    page_of(req, total, |skip, top| {
        items.into_iter().skip(skip).take(top).collect()
    })
}

/// [`page`] for lists whose items are costly to build: of `total` items, `render(skip, top)`
/// builds only the page's.
pub fn page_of(
    req: &ArmRequest,
    total: usize,
    render: impl FnOnce(usize, usize) -> Vec<serde_json::Value>,
) -> ArmResult<serde_json::Value> {
    let skip: usize = match req.query("$skiptoken") {
        Some(t) => t.parse().map_err(|_| {
            Error::bad_request(format!("The continuation token '{t}' is not valid."))
        })?,
        None => 0,
    };
    let top: usize =
        match req.query("$top") {
            Some(t) => t.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                Error::bad_request(format!("The value '{t}' of $top is not valid."))
            })?,
            None => limits::ARM_LIST_PAGE_SIZE,
        }
        .min(limits::ARM_LIST_PAGE_SIZE);
    let value = render(skip, top);
    let mut body = serde_json::Map::new();
    body.insert("value".into(), serde_json::Value::Array(value));
    if skip + top < total {
        let mut query: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
            .cloned()
            .collect();
        query.push(("$skiptoken".into(), (skip + top).to_string()));
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        body.insert(
            "nextLink".into(),
            format!("{}{}?{qs}", req.base_url, req.path.joined()).into(),
        );
    }
    Ok(serde_json::Value::Object(body))
}
