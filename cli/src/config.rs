//! `wantu config`: writes the keys and endpoints given as flags into the
//! config file, or shows it. The secret key is never printed back.

use crate::args::ConfigArgs;
use crate::fail::{Fail, Outcome};
use crate::report::Report;
use crate::settings::{self, Flags};
use std::io::Read;

pub fn run(flags: &Flags, args: &ConfigArgs, report: &Report) -> Outcome {
    let path = settings::config_path(flags)?;
    let mut values = settings::read_config(&path)?;
    let mut given = flags.given();
    if args.sk_stdin {
        if given.contains_key("sk") {
            return Err(Fail::Usage(
                "give the secret key with --sk or --sk-stdin, not both".into(),
            ));
        }
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| Fail::Usage(format!("cannot read the secret key from stdin: {e}")))?;
        let sk = text.trim().to_string();
        if sk.is_empty() {
            return Err(Fail::Usage("--sk-stdin read an empty secret key".into()));
        }
        given.insert("sk", sk);
    }
    let shown = path.display();
    if !given.is_empty() {
        for (k, v) in given {
            values.insert(k.to_string(), v);
        }
        // Check what will be used, before it is written.
        let get = |k: &str| values.get(k).map(String::as_str);
        wantu::ClientConfig::new(
            get("ak").unwrap_or("-"),
            get("sk").unwrap_or("-"),
            get("type"),
            get("upload_endpoint"),
            get("manage_endpoint"),
        )
        .map_err(|e| Fail::Usage(e.message().to_string()))?;
        settings::write_config(&path, &values)?;
        if !report.mode().quiet {
            eprintln!("wantu: wrote {shown}");
        }
    }
    let shown_value = |k: &str, v: &str| match k {
        "sk" => "(set)".to_string(),
        _ => v.to_string(),
    };
    if report.mode().json {
        let mut obj = serde_json::Map::new();
        obj.insert("config".into(), shown.to_string().into());
        for (k, v) in &values {
            obj.insert(k.clone(), shown_value(k, v).into());
        }
        report.json(&serde_json::Value::Object(obj));
    } else if !report.mode().quiet {
        report.stdout(&format!("# {shown}"));
        for k in settings::KEYS {
            if let Some(v) = values.get(k) {
                report.stdout(&format!("{k} = {}", shown_value(k, v)));
            }
        }
    }
    Ok(())
}
