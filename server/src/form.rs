//! Upload-host request bodies: `multipart/form-data` parsed as a stream
//! (the `content` field goes straight to disk), or, leniently, an
//! urlencoded form for the requests without content.

use axum::body::Body;
use futures_util::StreamExt;

use std::future::Future;

use crate::blob::{BlobWriter, RangeSink, Written};
use crate::error::{ApiError, ApiResult};
use crate::store::Store;

/// Text fields are small; anything bigger is not a legitimate field.
const MAX_FIELD: usize = 1 << 20;
const MAX_FIELDS: usize = 1000;

/// The largest content accepted and how to complain about more.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: u64,
    pub what: &'static str,
}

impl Limit {
    pub const NONE: Limit = Limit {
        max: u64::MAX,
        what: "",
    };

    fn exceeded(&self) -> ApiError {
        ApiError::size_limit(format!(
            "content exceeds {} of {} bytes",
            self.what, self.max
        ))
    }
}

pub struct Content {
    pub written: Written,
    /// `filename` from the part's Content-Disposition.
    pub filename: Option<String>,
}

#[derive(Default)]
pub struct Form {
    pub fields: Vec<(String, String)>,
    pub content: Option<Content>,
}

impl Form {
    /// The first non-empty value of a field.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// `prefix<key>` fields as (key, value), e.g. `meta-` and `var-`.
    pub fn prefixed(&self, prefix: &str) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(prefix)
                    .filter(|k| !k.is_empty())
                    .map(|k| (k.to_string(), v.clone()))
            })
            .collect()
    }

    pub fn require(&self, key: &str) -> ApiResult<&str> {
        self.get(key)
            .ok_or_else(|| ApiError::invalid_argument(format!("missing form field '{key}'")))
    }
}

fn malformed(e: multer::Error) -> ApiError {
    ApiError::invalid_argument(format!("malformed multipart/form-data body: {e}"))
}

pub async fn read_form(
    body: Body,
    content_type: Option<&str>,
    store: &Store,
    limit: Limit,
) -> ApiResult<Form> {
    let fresh = |_: &Form| async { None::<(RangeSink, ())> };
    let (form, _) = read_form_with(body, content_type, store, limit, fresh).await?;
    Ok(form)
}

/// Like [`read_form`], but once the text fields before `content` are read,
/// `choose` may direct the content into a range of an existing file; the
/// `T` it returns with the range comes back with the form. Whatever
/// `choose` answers, the caller validates the fields afterwards as usual.
pub async fn read_form_with<T, F, Fut>(
    body: Body,
    content_type: Option<&str>,
    store: &Store,
    limit: Limit,
    choose: F,
) -> ApiResult<(Form, Option<T>)>
where
    F: FnOnce(&Form) -> Fut,
    Fut: Future<Output = Option<(RangeSink, T)>>,
{
    let mut choose = Some(choose);
    let mut chosen = None;
    let ct = content_type.unwrap_or("");
    if ct
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Ok((read_urlencoded(body).await?, None));
    }
    let boundary = multer::parse_boundary(ct).map_err(|_| {
        ApiError::invalid_argument(format!(
            "Content-Type must be multipart/form-data with a boundary, got '{ct}'"
        ))
    })?;
    let mut mp = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut form = Form::default();
    while let Some(mut field) = mp.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_string();
        let filename = field.file_name().map(str::to_string);
        if name == "content" || filename.is_some() {
            if form.content.is_some() {
                return Err(ApiError::invalid_argument(
                    "the form carries more than one 'content' field",
                ));
            }
            let sink = match choose.take() {
                Some(c) => c(&form).await,
                None => None,
            };
            let mut writer = match sink {
                Some((sink, t)) => {
                    chosen = Some(t);
                    BlobWriter::into_range(sink, store.new_tmp_path())
                }
                None => BlobWriter::create(store.new_tmp_path()),
            };
            let mut size = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                size += chunk.len() as u64;
                if size > limit.max {
                    // Dropping the writer removes the partial file.
                    return Err(limit.exceeded());
                }
                writer.write(chunk).await?;
            }
            let written = writer.finish().await?;
            form.content = Some(Content { written, filename });
            continue;
        }
        if form.fields.len() >= MAX_FIELDS {
            return Err(ApiError::invalid_argument(format!(
                "more than {MAX_FIELDS} form fields"
            )));
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            if value.len() + chunk.len() > MAX_FIELD {
                return Err(ApiError::invalid_argument(format!(
                    "form field '{name}' is larger than {MAX_FIELD} bytes"
                )));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value)
            .map_err(|_| ApiError::invalid_argument(format!("form field '{name}' is not UTF-8")))?;
        form.fields.push((name, value));
    }
    Ok((form, chosen))
}

async fn read_urlencoded(body: Body) -> ApiResult<Form> {
    let bytes = read_limited(body, MAX_FIELD).await?;
    Ok(Form {
        fields: form_urlencoded::parse(&bytes).into_owned().collect(),
        content: None,
    })
}

/// Reads a small body completely, refusing more than `max` bytes.
pub async fn read_limited(body: Body, max: usize) -> ApiResult<Vec<u8>> {
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::invalid_argument(format!("could not read the body: {e}")))?;
        if out.len() + chunk.len() > max {
            return Err(ApiError::size_limit(format!(
                "request body is larger than {max} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
