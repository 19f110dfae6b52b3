//! Relay-style connections over upstream pages and over batched children.
//!
//! Cursors are opaque to clients: a small JSON object, signed and bound to its list
//! ([`crate::cursor`]). A top-level list's cursor names the upstream page it came from
//! (the upstream's own page number or continuation token), the page size and the position in
//! the page, so `after` resumes exactly there. A nested list's cursor is a position among the
//! parent's children. A connection may return fewer than `first` edges at an upstream page
//! boundary; `pageInfo.hasNextPage` says whether more follow.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{OutputType, SimpleObject};
use serde::{Deserialize, Serialize};

use crate::cursor::CursorScope;
use crate::error::ApiError;
use gatehouse_core::upstream::Page;

/// Extra fields of every connection.
#[derive(SimpleObject, Debug, Clone, Copy, Default)]
pub struct ConnectionFields {
    /// The number of records matching, when the upstream reports it.
    pub total_count: Option<u64>,
}

/// A connection of `N` nodes.
pub type Conn<N> = Connection<String, N, ConnectionFields>;

#[derive(Debug, Serialize, Deserialize)]
struct PageCursor {
    /// The upstream cursor of the page (`None`: the first page).
    c: Option<String>,
    /// Position in that page.
    i: usize,
    /// The page size the position refers to.
    s: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct OffsetCursor {
    o: usize,
}

fn decode<T: for<'de> Deserialize<'de>>(
    cursors: &CursorScope,
    cursor: &str,
) -> Result<T, ApiError> {
    cursors
        .open_json(cursor)
        .ok_or_else(|| ApiError::invalid_field("after", "is not a cursor of this connection"))
}

/// Checks `first` against the maximum page size.
pub fn page_size(first: Option<i32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match first {
        None => Ok(default.min(max)),
        Some(n) if n >= 1 && n as u32 <= max => Ok(n as u32),
        Some(_) => Err(ApiError::invalid_field(
            "first",
            format!("must be between 1 and {max}"),
        )),
    }
}

/// Where a top-level list resumes.
#[derive(Debug, Clone)]
pub struct Resume {
    /// The upstream cursor of the page to read.
    pub upstream: Option<String>,
    /// Records of that page to skip.
    pub skip: usize,
    /// The page size to read it with.
    pub size: u32,
}

/// Decodes `after` for a top-level list of page size `first`. The cursor must be one this
/// list's `cursors` signed, and the page size in it at most `max_page_size` (the limit may have
/// been lowered since it was made).
pub fn resume(
    after: Option<&str>,
    first: u32,
    cursors: &CursorScope,
    max_page_size: u32,
) -> Result<Resume, ApiError> {
    match after {
        None => Ok(Resume {
            upstream: None,
            skip: 0,
            size: first,
        }),
        Some(cursor) => {
            let cursor: PageCursor = decode(cursors, cursor)?;
            if !(1..=max_page_size).contains(&cursor.s) {
                return Err(ApiError::invalid_field(
                    "after",
                    format!("pages by more than {max_page_size} records; start again without it"),
                ));
            }
            Ok(Resume {
                upstream: cursor.c,
                skip: cursor.i.saturating_add(1),
                size: cursor.s,
            })
        }
    }
}

/// Builds a connection from (part of) an upstream page: the records of `page` from `at.skip`
/// on, `page` being the one read from `at.upstream` with page size `at.size`.
pub fn from_page<R, N: OutputType>(
    page: &Page<Arc<R>>,
    at: &Resume,
    first: u32,
    had_previous: bool,
    cursors: &CursorScope,
    wrap: impl Fn(Arc<R>) -> N,
) -> Conn<N> {
    let end = at.skip.saturating_add(first as usize).min(page.items.len());
    let start = at.skip.min(end);
    let has_next = end < page.items.len() || page.next_cursor.is_some();
    let mut connection = Connection::with_additional_fields(
        had_previous,
        has_next,
        ConnectionFields {
            total_count: page.total,
        },
    );
    for (i, item) in page.items[start..end].iter().enumerate() {
        let cursor = cursors.seal_json(&PageCursor {
            c: at.upstream.clone(),
            i: start + i,
            s: at.size,
        });
        connection.edges.push(Edge::new(cursor, wrap(item.clone())));
    }
    connection
}

/// Builds a connection over a parent's children.
pub fn from_children<R, N: OutputType>(
    children: &[Arc<R>],
    first: u32,
    after: Option<&str>,
    cursors: &CursorScope,
    wrap: impl Fn(Arc<R>) -> N,
) -> Result<Conn<N>, ApiError> {
    let start = match after {
        None => 0,
        Some(cursor) => decode::<OffsetCursor>(cursors, cursor)?.o.saturating_add(1),
    };
    let start = start.min(children.len());
    let end = start.saturating_add(first as usize).min(children.len());
    let mut connection = Connection::with_additional_fields(
        start > 0,
        end < children.len(),
        ConnectionFields {
            total_count: Some(children.len() as u64),
        },
    );
    for (i, child) in children[start..end].iter().enumerate() {
        connection.edges.push(Edge::new(
            cursors.seal_json(&OffsetCursor { o: start + i }),
            wrap(child.clone()),
        ));
    }
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::CursorKey;
    use crate::error::ErrorCode;

    fn page(n: usize, next: Option<&str>) -> Page<Arc<usize>> {
        Page {
            items: (0..n).map(Arc::new).collect(),
            next_cursor: next.map(str::to_owned),
            total: Some(100),
            bytes: 0,
        }
    }

    fn cursors(list: &str) -> CursorScope {
        CursorKey::new([1; 32]).scope(&[list, "project-1"])
    }

    fn start(size: u32) -> Resume {
        Resume {
            upstream: None,
            skip: 0,
            size,
        }
    }

    #[test]
    fn a_cursor_resumes_right_after_its_edge() {
        let list = cursors("activities");
        let first = from_page(&page(10, Some("2")), &start(10), 4, false, &list, |x| {
            *x as i32
        });
        assert_eq!(first.edges.len(), 4);
        assert!(first.has_next_page);
        let last = &first.edges[3].cursor;
        let resume = resume(Some(last), 4, &list, 100).expect("valid");
        assert_eq!((resume.upstream, resume.skip, resume.size), (None, 4, 10));
    }

    #[test]
    fn a_tampered_cursor_is_a_clear_input_error() {
        let list = cursors("activities");
        let error = resume(Some("not-a-cursor"), 10, &list, 100).expect_err("refused");
        assert_eq!(error.code, ErrorCode::BadUserInput);
        let made = from_page(&page(3, None), &start(3), 3, false, &list, |x| *x as i32);
        let mut tampered = made.edges[0].cursor.clone().into_bytes();
        tampered[4] = if tampered[4] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        let error = resume(Some(&tampered), 10, &list, 100).expect_err("refused");
        assert_eq!(error.code, ErrorCode::BadUserInput);
    }

    #[test]
    fn an_unsigned_cursor_with_a_huge_page_size_is_refused() {
        use base64::Engine;
        // What cursors looked like before they were signed.
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"c":null,"i":0,"s":100000}"#);
        let error = resume(Some(&forged), 10, &cursors("activities"), 100).expect_err("refused");
        assert_eq!(error.code, ErrorCode::BadUserInput);
    }

    #[test]
    fn a_signed_cursor_over_the_page_size_limit_is_refused() {
        let list = cursors("activities");
        let made = from_page(&page(3, None), &start(100), 3, false, &list, |x| *x as i32);
        assert!(resume(Some(&made.edges[0].cursor), 10, &list, 100).is_ok());
        let error = resume(Some(&made.edges[0].cursor), 10, &list, 50).expect_err("refused");
        assert_eq!(error.code, ErrorCode::BadUserInput);
    }

    #[test]
    fn a_cursor_of_another_connection_is_refused() {
        let made = from_page(
            &page(3, None),
            &start(3),
            3,
            false,
            &cursors("activities"),
            |x| *x as i32,
        );
        let error =
            resume(Some(&made.edges[0].cursor), 10, &cursors("events"), 100).expect_err("refused");
        assert_eq!(error.code, ErrorCode::BadUserInput);
        let children: Vec<Arc<usize>> = (0..5).map(Arc::new).collect();
        let one = from_children(&children, 2, None, &cursors("children-of-a"), |x| *x as i32)
            .expect("ok");
        let other = from_children(
            &children,
            2,
            Some(&one.edges[0].cursor),
            &cursors("children-of-b"),
            |x| *x as i32,
        );
        assert!(other.is_err(), "a child cursor of one parent on another");
    }

    #[test]
    fn children_page_by_offset() {
        let list = cursors("children");
        let children: Vec<Arc<usize>> = (0..5).map(Arc::new).collect();
        let one = from_children(&children, 2, None, &list, |x| *x as i32).expect("ok");
        assert_eq!(one.edges.len(), 2);
        assert!(one.has_next_page);
        let two = from_children(&children, 2, Some(&one.edges[1].cursor), &list, |x| {
            *x as i32
        })
        .expect("ok");
        assert_eq!(two.edges.iter().map(|e| e.node).collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn first_must_be_within_the_maximum() {
        assert!(page_size(Some(0), 20, 100).is_err());
        assert!(page_size(Some(101), 20, 100).is_err());
        assert_eq!(page_size(None, 20, 100).expect("default"), 20);
    }
}
