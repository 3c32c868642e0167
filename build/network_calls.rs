//! Header prototypes for the calls described with `network_call!`
//! (src/ffi/ops/define.rs), which cbindgen cannot see: each description
//! gives its blocking and its non-blocking prototype, with its doc comment.

use std::fs;
use std::path::Path;

/// One described call.
struct Call {
    docs: Vec<String>,
    name: String,
    async_name: String,
    args: Vec<(String, String)>,
}

/// The C spelling of an argument type of a described call.
fn c_type(rust: &str, call: &str) -> &'static str {
    match rust
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .as_str()
    {
        "*const wantu_client" => "const struct wantu_client *",
        "*const wantu_cancel" => "const struct wantu_cancel *",
        "*const c_char" => "const char *",
        "*const u8" => "const uint8_t *",
        "*mut c_void" => "void *",
        "usize" => "size_t ",
        "u32" => "uint32_t ",
        "u64" => "uint64_t ",
        "i32" => "int32_t ",
        "i64" => "int64_t ",
        "wantu_progress_fn" => "wantu_progress_fn ",
        "wantu_read_fn" => "wantu_read_fn ",
        "wantu_write_fn" => "wantu_write_fn ",
        other => panic!(
            "network_call {call}: no C spelling for the type `{other}` (build/network_calls.rs)"
        ),
    }
}

fn parse(text: &str, file: &Path, calls: &mut Vec<Call>) {
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line != "network_call! {" {
            continue;
        }
        let mut docs = Vec::new();
        let head = loop {
            let l = lines
                .next()
                .unwrap_or_else(|| panic!("{}: network_call! without fn", file.display()));
            match l.strip_prefix("///") {
                Some(d) => docs.push(d.strip_prefix(' ').unwrap_or(d).to_string()),
                None => break l,
            }
        };
        let names = head
            .strip_prefix("fn ")
            .and_then(|h| h.strip_suffix('('))
            .unwrap_or_else(|| {
                panic!(
                    "{}: expected `fn NAME / ASYNC(`, got {head:?}",
                    file.display()
                )
            });
        let (name, async_name) = names
            .split_once(" / ")
            .unwrap_or_else(|| panic!("{}: expected `NAME / ASYNC` in {head:?}", file.display()));
        let mut args = Vec::new();
        for l in lines.by_ref() {
            if l.starts_with(')') {
                break;
            }
            let (arg, ty) = l
                .trim_end_matches(',')
                .split_once(':')
                .unwrap_or_else(|| panic!("{}: {name}: bad argument line {l:?}", file.display()));
            let arg = arg.trim().trim_start_matches("r#");
            args.push((arg.to_string(), c_type(ty.trim(), name).to_string()));
        }
        calls.push(Call {
            docs,
            name: name.to_string(),
            async_name: async_name.to_string(),
            args,
        });
    }
}

fn doc_block(out: &mut String, docs: &[String]) {
    out.push_str("/**\n");
    for d in docs {
        if d.is_empty() {
            out.push_str(" *\n");
        } else {
            out.push_str(&format!(" * {d}\n"));
        }
    }
    out.push_str(" */\n");
}

fn prototype(out: &mut String, ret: &str, name: &str, args: &[(String, String)]) {
    let open = format!("{ret}{name}(");
    let pad = " ".repeat(open.len());
    out.push_str(&open);
    for (i, (arg, ty)) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
            out.push_str(&pad);
        }
        out.push_str(&format!("{ty}{arg}"));
    }
    out.push_str(");\n\n");
}

/// The prototypes of every described call under `src/ffi`, in file order.
pub fn prototypes(ffi_dir: &Path) -> String {
    let mut files: Vec<_> = walk(ffi_dir);
    files.sort();
    let mut calls = Vec::new();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        parse(&text, f, &mut calls);
    }
    let mut out = String::new();
    for c in &calls {
        doc_block(&mut out, &c.docs);
        prototype(&mut out, "char *", &c.name, &c.args);
        let docs = [
            format!("Non-blocking form of `{}`:", c.name),
            "the same arguments and answer, plus `how` (docs/async.md). Returns".into(),
            "at once with the operation's handle (NULL only when `how` is".into(),
            "unusable; `wantu_last_error` says why); the answer comes exactly".into(),
            "once through `how`. Every argument is read before this returns.".into(),
        ];
        let mut args = c.args.clone();
        args.push(("how".into(), "const struct wantu_async *".into()));
        doc_block(&mut out, &docs);
        prototype(&mut out, "struct wantu_op *", &c.async_name, &args);
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = e.expect("a readable folder entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out
}

/// Puts the prototypes inside the header's `extern "C"` block, at its end.
pub fn insert(header: &str, prototypes: &str) -> String {
    let marker = "#ifdef __cplusplus\n}  // extern \"C\"";
    let at = header
        .rfind(marker)
        .expect("cbindgen's header closes its extern \"C\" block");
    format!("{}{}{}", &header[..at], prototypes, &header[at..])
}
