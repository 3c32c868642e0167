//! Multipart staging: parts written at their final offsets of one object,
//! which blockComplete adopts without copying (see src/staging.rs).

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use wantu_server::MultipartStats;

async fn put(s: &TestServer, t: &str, u: &Upload, n: u32, body: &[u8]) {
    let (st, v) = part(s, t, u, n, body).await;
    assert_eq!(st, StatusCode::OK, "part {n}: {v}");
}

/// Completes and checks the stored file byte for byte.
async fn complete_ok(s: &TestServer, t: &str, u: &Upload, chunks: &[Vec<u8>]) {
    let body = chunks.concat();
    let (st, v) = complete(s, t, u, &parts_list(chunks), Some(&md5_hex(&body))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["eTag"], md5_hex(&body).to_uppercase());
    assert_eq!(v["fileSize"], body.len().to_string());
    let (_, got) = s.download(v["url"].as_str().unwrap(), None).await;
    assert!(got == body, "stored file differs");
}

fn objects(s: &TestServer) -> HashSet<String> {
    std::fs::read_dir(s.dir.path().join("data/objects"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn stats(s: &TestServer) -> MultipartStats {
    s.handle().multipart_stats()
}

fn in_place(n: u64) -> MultipartStats {
    MultipartStats {
        completed_in_place: n,
        completed_by_copy: 0,
    }
}

fn by_copy(n: u64) -> MultipartStats {
    MultipartStats {
        completed_in_place: 0,
        completed_by_copy: n,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn equal_parts_complete_without_copy() {
    let s = Arc::new(TestServer::start());
    let t = Arc::new(token("ns", json!({})));
    let chunks: Vec<Vec<u8>> = data(PART * 6 + 999, 1)
        .chunks(PART)
        .map(<[u8]>::to_vec)
        .collect();
    let u = Arc::new(start(&s, &t, "whole", &chunks[0]).await);
    let mut tasks = Vec::new();
    for (i, c) in chunks.iter().enumerate().skip(1).rev() {
        let (s, t, u, c) = (s.clone(), t.clone(), u.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            put(&s, &t, &u, i as u32 + 1, &c).await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Every part lives in the staging object.
    let before = objects(&s);
    assert_eq!(before.len(), 1, "{before:?}");
    complete_ok(&s, &t, &u, &chunks).await;
    assert_eq!(objects(&s), before, "the staging object became the file");
    assert_eq!(stats(&s), in_place(1));
    let tmp = std::fs::read_dir(s.dir.path().join("data/tmp")).unwrap();
    assert_eq!(tmp.count(), 0);
}

#[tokio::test]
async fn part_larger_than_part_one_falls_back_to_copy() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    // Part 2 is larger than the stride: it spills into an object of its
    // own after part of it was streamed into the staging range.
    let chunks = vec![data(PART, 1), data(PART * 3 + 17, 2), data(PART, 3)];
    let u = start(&s, &t, "mixed", &chunks[0]).await;
    for (i, c) in chunks.iter().enumerate().skip(1) {
        put(&s, &t, &u, i as u32 + 1, c).await;
    }
    assert_eq!(objects(&s).len(), 2, "staging plus part 2");
    complete_ok(&s, &t, &u, &chunks).await;
    assert_eq!(stats(&s), by_copy(1));
    assert_eq!(objects(&s).len(), 1, "staging and part objects removed");

    // Uneven parts that each fit the stride still need a copy.
    let chunks = vec![data(PART * 2, 4), data(PART, 5), data(PART + 1, 6)];
    let u = start(&s, &t, "uneven", &chunks[0]).await;
    put(&s, &t, &u, 3, &chunks[2]).await;
    put(&s, &t, &u, 2, &chunks[1]).await;
    complete_ok(&s, &t, &u, &chunks).await;
    assert_eq!(stats(&s), by_copy(2));
    assert_eq!(objects(&s).len(), 2);
}

#[tokio::test]
async fn reuploaded_parts_are_patched_into_place() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    let mut chunks = vec![data(PART, 1), data(PART, 2), data(PART, 3), data(50, 4)];
    let u = start(&s, &t, "patched", &chunks[0]).await;
    for (i, c) in chunks.iter().enumerate().skip(1) {
        put(&s, &t, &u, i as u32 + 1, c).await;
    }
    // A stored part is not overwritten in place: the new bytes get an
    // object of their own, copied into the range at complete.
    chunks[1] = data(PART, 20);
    chunks[0] = data(PART, 10);
    put(&s, &t, &u, 2, &chunks[1]).await;
    put(&s, &t, &u, 1, &chunks[0]).await;
    put(&s, &t, &u, 2, &chunks[1]).await;
    assert_eq!(objects(&s).len(), 3);
    complete_ok(&s, &t, &u, &chunks).await;
    assert_eq!(stats(&s), in_place(1));
    assert_eq!(objects(&s).len(), 1);

    // Re-uploading a smaller middle part breaks the layout: copy.
    let mut chunks = vec![data(PART * 2, 5), data(PART * 2, 6), data(10, 7)];
    let u = start(&s, &t, "shrunk", &chunks[0]).await;
    put(&s, &t, &u, 2, &chunks[1]).await;
    put(&s, &t, &u, 3, &chunks[2]).await;
    chunks[1] = data(PART, 8);
    put(&s, &t, &u, 2, &chunks[1]).await;
    complete_ok(&s, &t, &u, &chunks).await;
    assert_eq!(
        stats(&s),
        MultipartStats {
            completed_in_place: 1,
            completed_by_copy: 1
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_uploads_of_one_part_never_mix() {
    let s = Arc::new(TestServer::start());
    let t = Arc::new(token("ns", json!({})));
    let p1 = data(PART * 4, 1);
    let u = Arc::new(start(&s, &t, "race", &p1).await);
    let candidates: Vec<Vec<u8>> = (0..6).map(|i| data(PART * 4, 100 + i)).collect();
    let mut tasks = Vec::new();
    for c in &candidates {
        let (s, t, u, c) = (s.clone(), t.clone(), u.clone(), c.clone());
        tasks.push(tokio::spawn(async move { put(&s, &t, &u, 2, &c).await }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Exactly one candidate is the stored part 2, and its bytes are intact.
    let mut done = 0;
    for c in &candidates {
        let chunks = vec![p1.clone(), c.clone()];
        let (st, v) = complete(&s, &t, &u, &parts_list(&chunks), None).await;
        if st == StatusCode::OK {
            let (_, got) = s.download(v["url"].as_str().unwrap(), None).await;
            assert!(got == chunks.concat());
            assert_eq!(v["eTag"], md5_hex(&got).to_uppercase());
            done += 1;
        }
    }
    assert_eq!(done, 1);
    assert_eq!(objects(&s).len(), 1);
}

#[tokio::test]
async fn staging_object_removed_on_cancel_and_completion() {
    let s = TestServer::start();
    let t = token("ns", json!({}));
    let u = start(&s, &t, "gone", &data(PART, 1)).await;
    put(&s, &t, &u, 3, &data(PART, 3)).await;
    put(&s, &t, &u, 2, &data(PART * 2, 2)).await;
    assert_eq!(objects(&s).len(), 2);
    let fields = [("id", u.id.as_str()), ("uploadId", u.upload_id.as_str())];
    let (st, v) = s
        .post_form("/api/proxy/blockCancel", &t, &fields, None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(objects(&s).is_empty());

    let chunks = vec![data(PART, 4), data(PART, 5)];
    let u = start(&s, &t, "done", &chunks[0]).await;
    put(&s, &t, &u, 2, &chunks[1]).await;
    // Part 3 is stored but left out of the list: it must not be cut off
    // before the commit, so this one is copied; all goes at completion.
    put(&s, &t, &u, 3, &data(PART, 6)).await;
    complete_ok(&s, &t, &u, &chunks).await;
    assert_eq!(stats(&s), by_copy(1));
    assert_eq!(objects(&s).len(), 1);
}

#[tokio::test]
async fn failed_complete_leaves_the_upload_usable() {
    let mut s = TestServer::start();
    let t = token("ns", json!({}));
    let chunks = vec![data(PART, 1), data(PART, 2), data(7, 3)];
    let u = start(&s, &t, "again", &chunks[0]).await;
    put(&s, &t, &u, 3, &chunks[2]).await;
    put(&s, &t, &u, 2, &chunks[1]).await;
    // Forgets the prefix hash: the digest is then found wrong only after
    // the staging object was finished in place.
    s.restart();
    let (st, v) = complete(&s, &t, &u, &parts_list(&chunks), Some(&md5_hex(b"wrong"))).await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "BadDigest"));
    // The first two parts alone, then all three.
    let (st, v) = complete(&s, &t, &u, &parts_list(&chunks[..2]), Some(&md5_hex(b"no"))).await;
    assert_eq!((st, code(&v)), (StatusCode::BAD_REQUEST, "BadDigest"));
    complete_ok(&s, &t, &u, &chunks).await;
    assert_eq!(stats(&s), in_place(1));
    assert_eq!(objects(&s).len(), 1);
}

#[tokio::test]
async fn restart_between_staged_parts() {
    let mut s = TestServer::start();
    let t = token("ns", json!({}));
    let chunks: Vec<Vec<u8>> = data(PART * 4 + 5, 7)
        .chunks(PART)
        .map(<[u8]>::to_vec)
        .collect();
    let u = start(&s, &t, "restarted", &chunks[0]).await;
    put(&s, &t, &u, 4, &chunks[3]).await;
    s.restart();
    put(&s, &t, &u, 2, &chunks[1]).await;
    put(&s, &t, &u, 5, &chunks[4]).await;
    s.restart();
    assert_eq!(objects(&s).len(), 1, "start-up keeps the staging object");
    put(&s, &t, &u, 3, &chunks[2]).await;
    complete_ok(&s, &t, &u, &chunks).await;
    assert_eq!(stats(&s), in_place(1));
    s.restart();
    let (_, got) = s.download(&s.url("/files/ns/restarted"), None).await;
    assert!(got == chunks.concat(), "durable across restarts");
    assert_eq!(objects(&s).len(), 1);
}
