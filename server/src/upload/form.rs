//! Upload-host request bodies: `multipart/form-data` parsed as a stream
//! (the `content` field goes straight to disk), or, leniently, an
//! urlencoded form for the requests without content.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, BodyDataStream};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::http::error::{ApiError, ApiResult};
use crate::storage::blob::{BlobWriter, RangeSink, Written};
use crate::storage::Store;

/// Text fields are small; anything bigger is not a legitimate field. The
/// largest legitimate one is blockComplete's `parts` (about 750 KB in
/// Base64 for 10,000 parts).
const MAX_FIELD: usize = 1 << 20;
const MAX_FIELDS: usize = 1000;
/// All text fields of one form together (names and values).
pub const MAX_FIELDS_TOTAL: usize = 2 << 20;
/// The preamble and the header lines of one part together.
pub const MAX_PART_HEADER: u64 = 16 << 10;
/// What may follow the closing boundary.
const MAX_EPILOGUE: usize = 64 << 10;

/// The largest content accepted and how to complain about more.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: u64,
    pub what: &'static str,
}

impl Limit {
    /// The content limits of an upload request: the server's maximum object
    /// size, the policy's `sizeLimit` (0: none) and, for parts, the part size
    /// limit; the tightest applies.
    pub fn for_upload(max_object: u64, size_limit: u64, part_max: Option<u64>) -> Limit {
        let mut limit = Limit {
            max: max_object,
            what: "the server's maximum object size",
        };
        let mut tighten = |max: u64, what| {
            if max < limit.max {
                limit = Limit { max, what };
            }
        };
        if size_limit > 0 {
            tighten(size_limit, "the policy's sizeLimit");
        }
        if let Some(p) = part_max {
            tighten(p, "the part size limit");
        }
        limit
    }

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

/// The body as the multipart parser sees it. The parser buffers until it
/// finds the end of a part's headers; counting what it is fed meanwhile
/// bounds that buffer. After each chunk the feed yields once, so that the
/// parser looks at every chunk before it asks for the next.
struct Feed {
    stream: BodyDataStream,
    /// Inside `next_field`: bytes fed since it started.
    in_head: Option<u64>,
    head_too_large: bool,
    yield_next: bool,
}

#[derive(Clone)]
struct FeedHandle(Arc<Mutex<Feed>>);

impl FeedHandle {
    fn new(body: Body) -> Self {
        FeedHandle(Arc::new(Mutex::new(Feed {
            stream: body.into_data_stream(),
            in_head: None,
            head_too_large: false,
            yield_next: false,
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Feed> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_in_head(&self, on: bool) {
        self.lock().in_head = on.then_some(0);
    }

    /// Turns a parser error into the answer: the header limit, or a
    /// malformed body.
    fn error(&self, e: multer::Error) -> ApiError {
        if self.lock().head_too_large {
            return ApiError::part_header_too_large(format!(
                "a multipart part's headers (with the preamble) exceed {MAX_PART_HEADER} bytes, the server's limit"
            ));
        }
        ApiError::invalid_argument(format!("malformed multipart/form-data body: {e}"))
    }

    /// Reads what follows the closing boundary: the body must end as HTTP
    /// says (Content-Length reached, or the chunked terminator), or the
    /// client gave up and nothing may be stored.
    async fn finish(&self) -> ApiResult<()> {
        let mut rest = 0usize;
        loop {
            let next = std::future::poll_fn(|cx| self.lock().stream.poll_next_unpin(cx)).await;
            match next {
                None => return Ok(()),
                Some(Ok(chunk)) => {
                    rest += chunk.len();
                    if rest > MAX_EPILOGUE {
                        return Err(ApiError::invalid_argument(format!(
                            "more than {MAX_EPILOGUE} bytes follow the closing multipart boundary"
                        )));
                    }
                }
                Some(Err(e)) => {
                    return Err(ApiError::invalid_argument(format!(
                        "the request body did not end as HTTP says (before its Content-Length \
                         or chunked end): {e}; nothing was stored"
                    )))
                }
            }
        }
    }
}

impl Stream for FeedHandle {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut f = self.lock();
        if f.yield_next {
            f.yield_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        // The parser asks for more although everything fed since
        // `next_field` started did not complete the headers.
        if f.in_head.is_some_and(|n| n > MAX_PART_HEADER) {
            f.head_too_large = true;
            return Poll::Ready(Some(Err(axum::Error::new("part headers too large"))));
        }
        let r = f.stream.poll_next_unpin(cx);
        if let Poll::Ready(Some(Ok(b))) = &r {
            let n = b.len() as u64;
            if let Some(fed) = f.in_head.as_mut() {
                *fed += n;
            }
            f.yield_next = true;
        }
        r
    }
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
    let feed = FeedHandle::new(body);
    let mut mp = multer::Multipart::new(feed.clone(), boundary);
    let malformed = |e| feed.error(e);
    let mut form = Form::default();
    let mut fields_total = 0usize;
    loop {
        feed.set_in_head(true);
        let next = mp.next_field().await;
        feed.set_in_head(false);
        let Some(mut field) = next.map_err(malformed)? else {
            break;
        };
        let name = field.name().unwrap_or("").to_string();
        let filename = field.file_name().map(str::to_string);
        if name == "content" || filename.is_some() {
            if form.content.is_some() {
                return Err(ApiError::invalid_argument(
                    "the form carries more than one 'content' field",
                ));
            }
            store.check_space()?;
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
        fields_total += name.len();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            if value.len() + chunk.len() > MAX_FIELD {
                return Err(ApiError::fields_too_large(format!(
                    "form field '{}' is larger than {MAX_FIELD} bytes, the server's limit",
                    name.escape_debug()
                )));
            }
            fields_total += chunk.len();
            if fields_total > MAX_FIELDS_TOTAL {
                return Err(ApiError::fields_too_large(format!(
                    "the form's text fields together exceed {MAX_FIELDS_TOTAL} bytes, the server's limit"
                )));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value)
            .map_err(|_| ApiError::invalid_argument(format!("form field '{name}' is not UTF-8")))?;
        form.fields.push((name, value));
    }
    drop(mp);
    feed.finish().await?;
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

pub fn content_type(req: &axum::http::Request<Body>) -> Option<String> {
    req.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
