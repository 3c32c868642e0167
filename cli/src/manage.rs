//! Management commands on the library's management API (`wantu::manage`):
//! `ls`, `stat`, `rm`, `mv`, `mkdir`, `url` and `token`.

use crate::args::{LsArgs, MkdirArgs, MvArgs, PathsArgs, RmArgs, TokenArgs};
use crate::fail::{explain, Fail, Host, Outcome};
use crate::remote::Remote;
use crate::report::{Action, Report};
use serde_json::{json, Value};
use wantu::Client;

/// Items one listing of one folder may hold before `ls`/`rm -r` stop.
pub const MAX_FOLDER_ITEMS: i64 = 100_000;
/// Folders deeper than this below the starting one are not walked.
pub const MAX_DEPTH: usize = 64;

/// Parses a remote path argument; anything else is a usage error naming it.
pub fn remote(arg: &str) -> Outcome<Remote> {
    Remote::parse(arg).map_err(Fail::Usage)
}

/// Runs one management call on the client's runtime.
fn call<F>(client: &Client, fut: F) -> Outcome<Value>
where
    F: std::future::Future<Output = wantu::Result<Value>>,
{
    client
        .run(fut)
        .and_then(|r| r)
        .map_err(|e| explain(&e, client, Host::Manage))
}

/// One entry of a folder: a sub-folder or a file.
pub struct Entry {
    pub remote: Remote,
    /// The server's object (size, md5, times…).
    pub info: Value,
}

/// The sub-folders and files directly in `folder`.
pub fn entries(client: &Client, folder: &Remote) -> Outcome<(Vec<Entry>, Vec<Entry>)> {
    let (ns, dir) = (&folder.namespace, &folder.dir);
    let folders = call(client, client.dir_list_all(ns, dir, MAX_FOLDER_ITEMS))?;
    let files = call(client, client.file_list_all(ns, dir, MAX_FOLDER_ITEMS))?;
    for listing in [&folders, &files] {
        if listing["truncated"].as_bool() == Some(true) {
            return Err(Fail::Failed(format!(
                "{folder} holds more than {MAX_FOLDER_ITEMS} entries; stopped listing it"
            )));
        }
    }
    let items = |listing: &Value, folder_items: bool| -> Vec<Entry> {
        let list = listing["result"].as_array().cloned().unwrap_or_default();
        list.into_iter()
            .filter_map(|info| {
                let name = info["name"].as_str()?.to_string();
                let remote = if folder_items {
                    folder.subfolder(&name)
                } else {
                    folder.file(&name)
                };
                Some(Entry { remote, info })
            })
            .collect()
    };
    Ok((items(&folders, true), items(&files, false)))
}

/// A size the server gave as a number or a numeric string.
pub fn size_of(info: &Value) -> u64 {
    match &info["size"] {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

pub fn ls(client: &Client, report: &mut Report, args: &LsArgs) -> Outcome {
    let root = remote(&args.path)?.as_folder();
    list_folder(client, report, args, &root, "", 0)
}

fn list_folder(
    client: &Client,
    report: &mut Report,
    args: &LsArgs,
    folder: &Remote,
    prefix: &str,
    depth: usize,
) -> Outcome {
    if depth > MAX_DEPTH {
        return Err(Fail::Failed(format!(
            "{folder} is more than {MAX_DEPTH} folders deep; stopped there"
        )));
    }
    let (folders, files) = entries(client, folder)?;
    for f in &folders {
        let name = f.remote.dir.rsplit('/').next().unwrap_or_default();
        let rel = format!("{prefix}{name}/");
        print_entry(report, args.long, &rel, f, true);
        if args.recursive {
            list_folder(client, report, args, &f.remote, &rel, depth + 1)?;
        }
    }
    for f in &files {
        let rel = format!("{prefix}{}", f.remote.name.as_deref().unwrap_or_default());
        print_entry(report, args.long, &rel, f, false);
    }
    Ok(())
}

fn print_entry(report: &Report, long: bool, rel: &str, e: &Entry, folder: bool) {
    if report.mode().json {
        let mut obj = json!({
            "path": e.remote.to_string(),
            "type": if folder { "folder" } else { "file" },
            "modify_time": e.info["modify_time"],
        });
        if !folder {
            obj["size"] = size_of(&e.info).into();
            obj["md5"] = e.info["md5"].clone();
            obj["mime_type"] = e.info["mime_type"].clone();
        }
        report.json(&obj);
    } else if long {
        let size = if folder {
            "-".to_string()
        } else {
            size_of(&e.info).to_string()
        };
        let time = e.info["modify_time"]
            .as_i64()
            .map(utc_time)
            .unwrap_or_default();
        report.stdout(&format!("{size:>12}  {time:<19}  {rel}"));
    } else {
        report.stdout(rel);
    }
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn utc_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Runs `each` on every path, reporting failures and going on; the
/// command fails (exit 1) if any did, or with the first usage error.
fn for_each_path(
    report: &mut Report,
    paths: &[String],
    mut each: impl FnMut(&mut Report, &Remote) -> Outcome,
) -> Outcome {
    let parsed = paths
        .iter()
        .map(|p| remote(p))
        .collect::<Outcome<Vec<_>>>()?;
    let mut failures = 0;
    for r in &parsed {
        match each(report, r) {
            Ok(()) => {}
            Err(Fail::Failed(m)) => {
                failures += 1;
                report.stderr(&format!("wantu: {r}: {m}"));
            }
            Err(other) => return Err(other),
        }
    }
    match failures {
        0 => Ok(()),
        _ => Err(Fail::Reported),
    }
}

pub fn stat(client: &Client, report: &mut Report, args: &PathsArgs) -> Outcome {
    for_each_path(report, &args.paths, |report, r| {
        if r.is_folder() {
            let answer = call(client, client.dir_exists(&r.namespace, &r.dir))?;
            if answer["exist"].as_bool() != Some(true) {
                return Err(Fail::Failed("no such folder".into()));
            }
            if report.mode().json {
                report.json(&json!({"path": r.to_string(), "type": "folder"}));
            } else {
                report.stdout(&format!("{r}: folder"));
            }
            return Ok(());
        }
        let name = r.name.as_deref().unwrap_or_default();
        let info = call(client, client.file_get(&r.namespace, &r.dir, name))?;
        if report.mode().json {
            let mut obj = info.clone();
            obj["path"] = r.to_string().into();
            obj["type"] = "file".into();
            report.json(&obj);
            return Ok(());
        }
        let time = |k: &str| info[k].as_i64().map(utc_time).unwrap_or_default();
        let text = |k: &str| info[k].as_str().unwrap_or_default().to_string();
        report.stdout(&format!(
            "path:     {r}\nsize:     {}\nmd5:      {}\ntype:     {}\ncreated:  {} UTC\nmodified: {} UTC\nurl:      {}",
            size_of(&info),
            text("md5"),
            text("mime_type"),
            time("create_time"),
            time("modify_time"),
            text("url"),
        ));
        Ok(())
    })
}

pub fn url(client: &Client, report: &mut Report, args: &PathsArgs) -> Outcome {
    for_each_path(report, &args.paths, |report, r| {
        let Some(name) = r.name.as_deref() else {
            return Err(Fail::Usage(format!(
                "{r} is a folder; `url` needs a file path (no trailing /)"
            )));
        };
        let info = call(client, client.file_get(&r.namespace, &r.dir, name))?;
        let url = info["url"].as_str().unwrap_or_default();
        if report.mode().json {
            report.json(&json!({"path": r.to_string(), "url": url}));
        } else {
            report.stdout(url);
        }
        Ok(())
    })
}

pub fn mkdir(client: &Client, report: &mut Report, args: &MkdirArgs) -> Outcome {
    for_each_path(report, &args.paths, |report, r| {
        let folder = r.as_folder();
        match client
            .run(client.dir_create(&folder.namespace, &folder.dir))
            .and_then(|x| x)
        {
            Ok(_) => {}
            Err(e) if args.parents && e.name() == "NameDuplicated" => {}
            Err(e) => return Err(explain(&e, client, Host::Manage)),
        }
        if report.mode().json {
            report.json(&json!({"path": folder.to_string(), "created": true}));
        } else if !report.mode().quiet {
            report.stdout(&format!("created {folder}"));
        }
        Ok(())
    })
}

pub fn mv(client: &Client, report: &mut Report, args: &MvArgs) -> Outcome {
    let src = remote(&args.src)?;
    let dst = remote(&args.dst)?;
    let Some(name) = src.name.as_deref() else {
        return Err(Fail::Usage(format!(
            "{src} is a folder; `mv` moves files (give a path without a trailing /)"
        )));
    };
    if src.namespace != dst.namespace {
        return Err(Fail::Usage(format!(
            "`mv` stays within a namespace: {src} and {dst} are in different ones; \
             copy the file instead"
        )));
    }
    let new_name = dst.name.clone().unwrap_or_else(|| name.to_string());
    let to = Remote {
        name: Some(new_name.clone()),
        ..dst.clone()
    };
    call(
        client,
        client.file_rename(&src.namespace, &src.dir, name, Some(&to.dir), &new_name),
    )?;
    if report.mode().json {
        report.json(&json!({"path": src.to_string(), "to": to.to_string(), "moved": true}));
    } else if !report.mode().quiet {
        report.stdout(&format!("moved {src} -> {to}"));
    }
    Ok(())
}

pub fn rm(client: &Client, report: &mut Report, args: &RmArgs) -> Outcome {
    let parsed = args
        .paths
        .iter()
        .map(|p| remote(p))
        .collect::<Outcome<Vec<_>>>()?;
    for r in &parsed {
        let outcome = match &r.name {
            Some(name) => delete_file(client, report, r, name),
            None if args.recursive => delete_tree(client, report, r, 0),
            None => delete_folder(client, report, r, false),
        };
        match outcome {
            Ok(()) => {}
            // Files were reported one by one; this is a folder's failure.
            Err(Fail::Failed(m)) => report.file(
                &r.to_string(),
                Action::Failed,
                Some(&m),
                Value::Object(Default::default()),
            ),
            Err(other) => return Err(other),
        }
    }
    report.summary();
    match report.failed() {
        0 => Ok(()),
        _ => Err(Fail::Reported),
    }
}

fn delete_file(client: &Client, report: &mut Report, r: &Remote, name: &str) -> Outcome {
    let path = r.to_string();
    match call(client, client.file_delete(&r.namespace, &r.dir, name)) {
        Ok(_) => report.file(&path, Action::Deleted, None, json!({})),
        Err(Fail::Failed(m)) => report.file(&path, Action::Failed, Some(&m), json!({})),
        Err(other) => return Err(other),
    }
    Ok(())
}

/// Deletes an empty folder and reports it; the root of a namespace stays,
/// and a folder that is gone already (the service drops emptied folders)
/// is fine inside `rm -r`.
fn delete_folder(client: &Client, report: &mut Report, r: &Remote, recursive: bool) -> Outcome {
    if r.dir == "/" {
        return Ok(());
    }
    match client
        .run(client.dir_delete(&r.namespace, &r.dir))
        .and_then(|x| x)
    {
        Ok(_) => {
            report.file(&r.to_string(), Action::Deleted, None, json!({}));
            Ok(())
        }
        Err(e) if recursive && e.name() == "DirNotExist" => Ok(()),
        Err(e) if e.name() == "DirNotEmpty" => Err(Fail::Failed(format!(
            "{}; use `rm -r` to delete it with its contents",
            e.message()
        ))),
        Err(e) => Err(explain(&e, client, Host::Manage)),
    }
}

/// Deletes every file below `folder`, then the folders, deepest first.
/// A failure is reported and the rest goes on; a folder that still holds
/// something after that is left in place.
fn delete_tree(client: &Client, report: &mut Report, folder: &Remote, depth: usize) -> Outcome {
    if depth > MAX_DEPTH {
        return Err(Fail::Failed(format!(
            "{folder} is more than {MAX_DEPTH} folders deep; stopped there"
        )));
    }
    let (folders, files) = entries(client, folder)?;
    let before = report.failed();
    for f in &folders {
        match delete_tree(client, report, &f.remote, depth + 1) {
            Ok(()) => {}
            Err(Fail::Failed(m)) => {
                report.file(&f.remote.to_string(), Action::Failed, Some(&m), json!({}))
            }
            Err(other) => return Err(other),
        }
    }
    for f in &files {
        delete_file(
            client,
            report,
            &f.remote,
            f.remote.name.as_deref().unwrap_or(""),
        )?;
    }
    if report.failed() > before {
        return Ok(()); // not empty: what failed inside was reported
    }
    delete_folder(client, report, folder, true)
}

/// `10`, `10s`, `5m`, `2h`, `7d` → seconds; `never` → None.
pub fn parse_expiry(text: &str) -> Outcome<Option<u64>> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    let n: u64 = digits.parse().unwrap_or(0);
    match n.checked_mul(scale) {
        // Ten years is more than any token should live.
        Some(secs) if secs > 0 && secs <= 10 * 365 * 86_400 => Ok(Some(secs)),
        _ => Err(Fail::Usage(format!(
            "--expires {text:?} is not a duration: give seconds or a number with s, m, h or d \
             (e.g. 30m, 2h, 7d, at most 10 years), or `never`"
        ))),
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn token(client: &Client, report: &mut Report, args: &TokenArgs) -> Outcome {
    let text = match (&args.policy, &args.path) {
        (Some(policy), _) => policy.clone(),
        (None, Some(path)) => {
            let r = remote(path)?;
            let expiration = match parse_expiry(&args.expires)? {
                Some(secs) => now_ms() + secs as i64 * 1000,
                None => -1,
            };
            let mut p = json!({"namespace": r.namespace, "expiration": expiration});
            p["dir"] = r.dir.clone().into();
            if let Some(name) = &r.name {
                p["name"] = name.clone().into();
            }
            if args.insert_only {
                p["insertOnly"] = 1.into();
            }
            p.to_string()
        }
        (None, None) => {
            return Err(Fail::Usage(
                "`token` needs a path (wantu://NAMESPACE/dir/) or --policy JSON".into(),
            ))
        }
    };
    let policy =
        wantu::policy::Policy::parse(&text).map_err(|e| Fail::Usage(e.message().into()))?;
    let token = client.upload_token(&policy);
    if report.mode().json {
        report.json(&json!({"token": token, "policy": text}));
    } else {
        report.stdout(&token);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00");
        assert_eq!(utc_time(1_437_535_493_816), "2015-07-22 03:24:53");
        assert_eq!(utc_time(951_782_400_000), "2000-02-29 00:00:00");
    }

    #[test]
    fn expiries() {
        assert_eq!(parse_expiry("90").unwrap(), Some(90));
        assert_eq!(parse_expiry("2h").unwrap(), Some(7200));
        assert_eq!(parse_expiry("never").unwrap(), None);
        for bad in ["", "0", "1y", "h", "-5", "99999999999d"] {
            assert!(parse_expiry(bad).is_err(), "{bad}");
        }
    }
}
