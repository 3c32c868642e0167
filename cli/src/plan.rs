//! `sync --delete`: what the destination holds that the source lacks.
//!
//! Both sides are read into a `Tree` of relative paths (`/`-separated, no
//! leading or trailing `/`): a local folder by walking it without following
//! symbolic links, a remote folder with the management API's listings.
//! `extras` then answers the destination's files that the source has no
//! file for, and its folders that the source has no folder for, deepest
//! first so that each is empty by the time it is removed.
//!
//! Which files to *send* is not decided here: the library's folder engines
//! compare size, then MD5, themselves (their `skip: md5` rule).

use crate::fail::{Fail, Outcome};
use crate::manage::{entries, MAX_DEPTH};
use crate::remote::Remote;
use std::collections::BTreeSet;
use std::path::Path;
use wantu::Client;

/// Entries one tree may hold before the walk stops with an error: bounds
/// the memory of a sync (about 100 bytes an entry).
pub const MAX_ENTRIES: usize = 1_000_000;

/// The files and folders below a root, as relative paths.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tree {
    pub files: BTreeSet<String>,
    pub folders: BTreeSet<String>,
}

impl Tree {
    fn len(&self) -> usize {
        self.files.len() + self.folders.len()
    }

    fn check_size(&self, root: &dyn std::fmt::Display) -> Outcome {
        if self.len() > MAX_ENTRIES {
            return Err(Fail::Failed(format!(
                "{root} holds more than {MAX_ENTRIES} files and folders; sync a smaller folder"
            )));
        }
        Ok(())
    }
}

/// What `--delete` removes from the destination.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// Files, in path order.
    pub files: Vec<String>,
    /// Folders, deepest first.
    pub folders: Vec<String>,
}

/// The destination's entries that the source lacks. A destination file is
/// kept where the source has a file at the same path, or where `synced`
/// says the path is not part of the sync (`--exclude`); a folder where the
/// source has a folder, or where it holds a file kept that way.
pub fn extras(src: &Tree, dst: &Tree, synced: &dyn Fn(&str) -> bool) -> Extras {
    let (files, left_alone): (Vec<&String>, Vec<&String>) =
        dst.files.difference(&src.files).partition(|f| synced(f));
    let holds_left_alone = |folder: &str| {
        left_alone
            .iter()
            .any(|f| f.strip_prefix(folder).is_some_and(|r| r.starts_with('/')))
    };
    let files = files.into_iter().cloned().collect();
    let mut folders: Vec<String> = dst
        .folders
        .difference(&src.folders)
        .filter(|f| !holds_left_alone(f))
        .cloned()
        .collect();
    // Deeper paths have more segments; among equals the order is stable.
    folders.sort_by_key(|f| std::cmp::Reverse(f.matches('/').count()));
    Extras { files, folders }
}

/// `a/b` + `c` → `a/b/c`; `` + `c` → `c`.
pub fn join_rel(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// Walks a local folder. Symbolic links are not followed: a link counts as
/// a file (so `--delete` keeps the remote file of that name, and removes a
/// local link, never its target). `skip` leaves out names (the download
/// engine's temporary files). A missing root is an empty tree.
pub fn local_tree(root: &Path, skip: &dyn Fn(&str) -> bool) -> Outcome<Tree> {
    let mut tree = Tree::default();
    match std::fs::symlink_metadata(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(tree),
        Err(e) => {
            return Err(Fail::Failed(format!(
                "cannot read local folder {}: {e}",
                root.display()
            )))
        }
        Ok(m) if !m.is_dir() => {
            return Err(Fail::Usage(format!(
                "{} is not a folder; `sync` goes between folders",
                root.display()
            )))
        }
        Ok(_) => {}
    }
    let mut stack = vec![(String::new(), 0usize)];
    while let Some((rel, depth)) = stack.pop() {
        let dir = root.join(&rel);
        let shown = dir.display();
        if depth > MAX_DEPTH {
            return Err(Fail::Failed(format!(
                "{shown} is more than {MAX_DEPTH} folders deep; stopped there"
            )));
        }
        let read = std::fs::read_dir(&dir)
            .map_err(|e| Fail::Failed(format!("cannot read local folder {shown}: {e}")))?;
        for entry in read {
            let entry = entry
                .map_err(|e| Fail::Failed(format!("cannot read local folder {shown}: {e}")))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if skip(&name) {
                continue;
            }
            let path = join_rel(&rel, &name);
            let kind = entry.file_type().map_err(|e| {
                Fail::Failed(format!("cannot read {}: {e}", dir.join(&name).display()))
            })?;
            if kind.is_dir() {
                tree.folders.insert(path.clone());
                stack.push((path, depth + 1));
            } else {
                tree.files.insert(path);
            }
        }
        tree.check_size(&root.display())?;
    }
    Ok(tree)
}

/// Lists a remote folder recursively. A folder that does not exist is an
/// empty tree (a first sync creates it).
pub fn remote_tree(client: &Client, root: &Remote) -> Outcome<Tree> {
    let mut tree = Tree::default();
    let exists = client
        .run(client.dir_exists(&root.namespace, &root.dir))
        .and_then(|r| r)
        .map_err(|e| crate::fail::explain(&e, client, crate::fail::Host::Manage))?;
    if root.dir != "/" && exists["exist"].as_bool() != Some(true) {
        return Ok(tree);
    }
    let mut stack = vec![(root.clone(), String::new(), 0usize)];
    while let Some((folder, rel, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(Fail::Failed(format!(
                "{folder} is more than {MAX_DEPTH} folders deep; stopped there"
            )));
        }
        let (folders, files) = entries(client, &folder)?;
        for f in files {
            tree.files
                .insert(join_rel(&rel, f.remote.name.as_deref().unwrap_or_default()));
        }
        for f in folders {
            let name = f.remote.dir.rsplit('/').next().unwrap_or_default();
            let path = join_rel(&rel, name);
            tree.folders.insert(path.clone());
            stack.push((f.remote, path, depth + 1));
        }
        tree.check_size(root)?;
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str], folders: &[&str]) -> Tree {
        Tree {
            files: files.iter().map(|s| s.to_string()).collect(),
            folders: folders.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn extras_are_what_the_source_lacks() {
        let src = tree(&["a", "d/b", "x"], &["d"]);
        let dst = tree(
            &["a", "d/b", "d/old", "gone/1", "gone/deep/2", "x/inner"],
            &["d", "gone", "gone/deep", "x"],
        );
        let all = |_: &str| true;
        let e = extras(&src, &dst, &all);
        assert_eq!(e.files, ["d/old", "gone/1", "gone/deep/2", "x/inner"]);
        // Deepest first; `x` is a file in the source, not a folder.
        assert_eq!(e.folders, ["gone/deep", "gone", "x"]);
        assert_eq!(extras(&dst, &dst, &all), Extras::default());
        // A file where the source has a folder is an extra too.
        let e = extras(&tree(&[], &["a"]), &tree(&["a"], &[]), &all);
        assert_eq!(e.files, ["a"]);
    }

    #[test]
    fn files_left_out_of_the_sync_stay_with_their_folders() {
        let src = tree(&["a"], &[]);
        let dst = tree(
            &["a", "b.tmp", "gone/1", "gone/keep.tmp", "old/2"],
            &["gone", "old"],
        );
        let e = extras(&src, &dst, &|rel: &str| !rel.ends_with(".tmp"));
        assert_eq!(e.files, ["gone/1", "old/2"]);
        // `gone` still holds keep.tmp, which the sync does not touch.
        assert_eq!(e.folders, ["old"]);
    }

    #[test]
    fn local_walk_does_not_follow_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/secret"), b"s").unwrap();
        std::fs::write(root.join("top"), b"1").unwrap();
        std::fs::write(root.join("a/b/leaf"), b"2").unwrap();
        std::fs::write(root.join(".x.wantu-part"), b"3").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("link")).unwrap();
        let t = local_tree(&root, &|n| n.ends_with(".wantu-part")).unwrap();
        assert_eq!(t, tree(&["a/b/leaf", "link", "top"], &["a", "a/b"]));
        assert_eq!(
            local_tree(&dir.path().join("missing"), &|_| false).unwrap(),
            Tree::default()
        );
        let e = local_tree(&root.join("top"), &|_| false).unwrap_err();
        assert!(matches!(e, Fail::Usage(m) if m.contains("not a folder")));
    }

    /// The remote walk against a real wantu-server.
    #[test]
    fn remote_tree_lists_every_level() {
        let dir = tempfile::tempdir().unwrap();
        let config = wantu_server::Config::new(
            dir.path().join("server"),
            vec![("ak".to_string(), "sk".to_string())],
        );
        let server = wantu_server::spawn(config).unwrap();
        let url = server.base_url();
        let client = Client::new(
            wantu::ClientConfig::new("ak", "sk", None, Some(&url), Some(&url)).unwrap(),
        )
        .unwrap();
        let policy = wantu::policy::Policy::parse(r#"{"namespace":"ns","expiration":-1}"#).unwrap();
        for (d, n) in [("/s", "a"), ("/s/d", "b"), ("/s/d/e", "f"), ("/other", "o")] {
            let target = wantu::upload::Target {
                dir: Some(d.into()),
                name: Some(n.into()),
                ..Default::default()
            };
            let content = wantu::upload::Content::Bytes(b"x".to_vec().into());
            client
                .run(client.upload(&policy, &target, content, None))
                .unwrap()
                .unwrap();
        }
        client
            .run(client.dir_create("ns", "/s/empty"))
            .unwrap()
            .unwrap();
        let root = Remote::parse("wantu://ns/s/").unwrap();
        assert_eq!(
            remote_tree(&client, &root).unwrap(),
            tree(&["a", "d/b", "d/e/f"], &["d", "d/e", "empty"])
        );
        let missing = Remote::parse("wantu://ns/nothing/here/").unwrap();
        assert_eq!(remote_tree(&client, &missing).unwrap(), Tree::default());
        let whole = remote_tree(&client, &Remote::parse("wantu://ns/").unwrap()).unwrap();
        assert!(whole.files.contains("other/o") && whole.files.contains("s/d/e/f"));
    }
}
