//! `sync --delete`: what the destination holds that the source lacks.
//!
//! The two sides are read together, one folder at a time (`Side::level`):
//! a local folder without following symbolic links, a remote folder with
//! the management API's listings. Only folders both sides hold are opened
//! on both; a destination folder the source lacks is read on its own, to
//! list what goes with it. What is held at once is the folders being
//! compared (at most `MAX_LEVEL` names each) and the extras found, never
//! either whole tree. Extras are the destination's files that the source
//! has no file for, and its folders that the source has no folder for,
//! deepest first so that each is empty by the time it is removed.
//!
//! Which files to *send* is not decided here: the library's folder engines
//! compare size, then MD5, themselves (their `skip: md5` rule).

use crate::fail::{Fail, Outcome};
use crate::manage::{entries, MAX_DEPTH};
use crate::remote::Remote;
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use wantu::Client;

/// Names one local folder may hold before the walk stops with an error
/// (a remote folder's listing has its own cap, `MAX_FOLDER_ITEMS`).
pub const MAX_LEVEL: usize = 1_000_000;

/// The entries directly in one folder, by name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Level {
    pub files: BTreeSet<String>,
    pub folders: BTreeSet<String>,
}

/// One side of a sync, read a folder at a time.
pub trait Side {
    /// The entries of the folder `rel` below the root (`""`: the root).
    /// A root that does not exist is empty.
    fn level(&self, rel: &str) -> Outcome<Level>;
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
pub fn extras(src: &dyn Side, dst: &dyn Side, synced: &dyn Fn(&str) -> bool) -> Outcome<Extras> {
    let mut out = Extras::default();
    // Folders holding a file left out of the sync: never deleted.
    let mut holds_left_alone: HashSet<String> = HashSet::new();
    // (folder, depth, whether the source has it too)
    let mut stack = vec![(String::new(), 0usize, true)];
    while let Some((rel, depth, in_src)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(Fail::Failed(format!(
                "{rel} is more than {MAX_DEPTH} folders deep; stopped there"
            )));
        }
        let d = dst.level(&rel)?;
        let s = if in_src {
            src.level(&rel)?
        } else {
            Level::default()
        };
        for name in d.files.difference(&s.files) {
            let path = join_rel(&rel, name);
            if synced(&path) {
                out.files.push(path);
            } else {
                let mut at = path.as_str();
                while let Some((parent, _)) = at.rsplit_once('/') {
                    if !holds_left_alone.insert(parent.to_string()) {
                        break; // its parents are in already
                    }
                    at = parent;
                }
            }
        }
        for name in &d.folders {
            let path = join_rel(&rel, name);
            let both = s.folders.contains(name);
            if !both {
                out.folders.push(path.clone());
            }
            stack.push((path, depth + 1, both));
        }
    }
    out.files.sort();
    out.folders.retain(|f| !holds_left_alone.contains(f));
    out.folders.sort();
    // Deeper paths have more segments; among equals the order is stable.
    out.folders
        .sort_by_key(|f| std::cmp::Reverse(f.matches('/').count()));
    Ok(out)
}

/// `a/b` + `c` → `a/b/c`; `` + `c` → `c`.
pub fn join_rel(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// A local folder. Symbolic links are not followed: a link counts as a
/// file (so `--delete` keeps the remote file of that name, and removes a
/// local link, never its target). `skip` leaves out names (the download
/// engine's temporary files).
pub struct LocalSide<'a> {
    pub root: &'a Path,
    pub skip: &'a dyn Fn(&str) -> bool,
}

impl LocalSide<'_> {
    /// Refuses a root that is not a folder (a missing one is empty).
    pub fn check(&self) -> Outcome {
        match std::fs::symlink_metadata(self.root) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Fail::Failed(format!(
                "cannot read local folder {}: {e}",
                self.root.display()
            ))),
            Ok(m) if !m.is_dir() => Err(Fail::Usage(format!(
                "{} is not a folder; `sync` goes between folders",
                self.root.display()
            ))),
            Ok(_) => Ok(()),
        }
    }
}

impl Side for LocalSide<'_> {
    fn level(&self, rel: &str) -> Outcome<Level> {
        let mut level = Level::default();
        let dir = self.root.join(rel);
        let shown = dir.display();
        let read = match std::fs::read_dir(&dir) {
            Err(e) if rel.is_empty() && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(level)
            }
            r => r.map_err(|e| Fail::Failed(format!("cannot read local folder {shown}: {e}")))?,
        };
        for entry in read {
            let entry = entry
                .map_err(|e| Fail::Failed(format!("cannot read local folder {shown}: {e}")))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if (self.skip)(&name) {
                continue;
            }
            let kind = entry.file_type().map_err(|e| {
                Fail::Failed(format!("cannot read {}: {e}", dir.join(&name).display()))
            })?;
            match kind.is_dir() {
                true => level.folders.insert(name),
                false => level.files.insert(name),
            };
            if level.files.len() + level.folders.len() > MAX_LEVEL {
                return Err(Fail::Failed(format!(
                    "{shown} holds more than {MAX_LEVEL} files and folders; sync a smaller folder"
                )));
            }
        }
        Ok(level)
    }
}

/// A remote folder, listed with the management API. A folder that does
/// not exist is empty (a first sync creates it).
pub struct RemoteSide<'a> {
    client: &'a Client,
    root: Remote,
    exists: bool,
}

impl<'a> RemoteSide<'a> {
    pub fn new(client: &'a Client, root: &Remote) -> Outcome<RemoteSide<'a>> {
        let exists = root.dir == "/"
            || client
                .run(client.dir_exists(&root.namespace, &root.dir))
                .and_then(|r| r)
                .map_err(|e| crate::fail::explain(&e, client, crate::fail::Host::Manage))?["exist"]
                .as_bool()
                == Some(true);
        Ok(RemoteSide {
            client,
            root: root.clone(),
            exists,
        })
    }
}

impl Side for RemoteSide<'_> {
    fn level(&self, rel: &str) -> Outcome<Level> {
        let mut level = Level::default();
        if !self.exists {
            return Ok(level);
        }
        let folder = rel
            .split('/')
            .filter(|s| !s.is_empty())
            .fold(self.root.clone(), |f, name| f.subfolder(name));
        let (folders, files) = entries(self.client, &folder)?;
        for f in files {
            level
                .files
                .insert(f.remote.name.clone().unwrap_or_default());
        }
        for f in folders {
            let name = f.remote.dir.rsplit('/').next().unwrap_or_default();
            level.folders.insert(name.to_string());
        }
        Ok(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole tree as relative paths, read a level at a time.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct Tree {
        files: BTreeSet<String>,
        folders: BTreeSet<String>,
    }

    fn tree(files: &[&str], folders: &[&str]) -> Tree {
        Tree {
            files: files.iter().map(|s| s.to_string()).collect(),
            folders: folders.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn child<'a>(path: &'a str, rel: &str) -> Option<&'a str> {
        let rest = match rel {
            "" => path,
            _ => path.strip_prefix(rel)?.strip_prefix('/')?,
        };
        (!rest.contains('/')).then_some(rest)
    }

    impl Side for Tree {
        fn level(&self, rel: &str) -> Outcome<Level> {
            let pick = |set: &BTreeSet<String>| {
                set.iter()
                    .filter_map(|p| child(p, rel).map(str::to_string))
                    .collect()
            };
            Ok(Level {
                files: pick(&self.files),
                folders: pick(&self.folders),
            })
        }
    }

    /// A side read back into a whole tree.
    fn read_all(side: &dyn Side) -> Tree {
        let mut t = Tree::default();
        let mut stack = vec![String::new()];
        while let Some(rel) = stack.pop() {
            let level = side.level(&rel).unwrap();
            t.files
                .extend(level.files.iter().map(|n| join_rel(&rel, n)));
            for n in &level.folders {
                t.folders.insert(join_rel(&rel, n));
                stack.push(join_rel(&rel, n));
            }
        }
        t
    }

    fn extras(src: &Tree, dst: &Tree, synced: &dyn Fn(&str) -> bool) -> Extras {
        super::extras(src, dst, synced).unwrap()
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
        let skip = |n: &str| n.ends_with(".wantu-part");
        let t = read_all(&LocalSide {
            root: &root,
            skip: &skip,
        });
        assert_eq!(t, tree(&["a/b/leaf", "link", "top"], &["a", "a/b"]));
        let none = |_: &str| false;
        let missing = dir.path().join("missing");
        let side = LocalSide {
            root: &missing,
            skip: &none,
        };
        assert!(side.check().is_ok());
        assert_eq!(read_all(&side), Tree::default());
        let file = root.join("top");
        let e = LocalSide {
            root: &file,
            skip: &none,
        }
        .check()
        .unwrap_err();
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
        let remote_tree = |r: &Remote| read_all(&RemoteSide::new(&client, r).unwrap());
        assert_eq!(
            remote_tree(&root),
            tree(&["a", "d/b", "d/e/f"], &["d", "d/e", "empty"])
        );
        let missing = Remote::parse("wantu://ns/nothing/here/").unwrap();
        assert_eq!(remote_tree(&missing), Tree::default());
        let whole = remote_tree(&Remote::parse("wantu://ns/").unwrap());
        assert!(whole.files.contains("other/o") && whole.files.contains("s/d/e/f"));
    }
}
