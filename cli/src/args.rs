//! The command line: global options, commands, and the examples `--help`
//! shows for each.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The top-level help's epilogue: paths, where keys come from, examples,
/// exit codes.
const AFTER_HELP: &str = "\
Remote paths are written wantu://NAMESPACE/dir/name; a trailing / means a
folder (wantu://NAMESPACE/dir/). Local paths are everything else.

Keys and endpoints come from the flags above, else the environment
(WANTU_AK, WANTU_SK, WANTU_TYPE, WANTU_ENDPOINT for both hosts, or
WANTU_UPLOAD_ENDPOINT and WANTU_MANAGE_ENDPOINT), else the config file
that `wantu config` writes ($XDG_CONFIG_HOME/wantu/config or
~/.config/wantu/config; --config or WANTU_CONFIG choose another).

Examples:
  printf '%s' \"$SECRET\" | wantu config --ak AK --sk-stdin --endpoint https://wantu.example.com
  wantu ls -l wantu://photos/2024/
  wantu cp holiday.jpg wantu://photos/2024/
  wantu --json cp a.mp4 b.mp4 wantu://videos/raw/
  wantu sync ./site wantu://www/site/
  wantu cp -r wantu://photos/2024/ ./backup

Exit codes:
  0  everything was done
  1  some files (or the operation) failed; the messages say which and why
  2  usage or configuration error: bad arguments, a remote path without a
     namespace, missing keys, or keys the server refused";

#[derive(Debug, Parser)]
#[command(
    name = "wantu",
    version,
    about = "Command-line tool for the Wantu media-storage service",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Access key (else WANTU_AK, else the config file)
    #[arg(long, global = true, value_name = "AK")]
    pub ak: Option<String>,
    /// Secret key (else WANTU_SK, else the config file); prefer those two:
    /// a flag shows in the process list and shell history
    #[arg(long, global = true, value_name = "SK")]
    pub sk: Option<String>,
    /// Key type, TOP or CLOUD (else WANTU_TYPE, else the config file; TOP by default)
    #[arg(long = "type", global = true, value_name = "TYPE")]
    pub key_type: Option<String>,
    /// Base URL of both hosts (else WANTU_ENDPOINT)
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Base URL of the upload host (else WANTU_UPLOAD_ENDPOINT)
    #[arg(long, global = true, value_name = "URL")]
    pub upload_endpoint: Option<String>,
    /// Base URL of the management host (else WANTU_MANAGE_ENDPOINT)
    #[arg(long, global = true, value_name = "URL")]
    pub manage_endpoint: Option<String>,
    /// Config file to read (and `wantu config` to write) [env: WANTU_CONFIG]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// No progress and no per-file lines; errors are still printed
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// One JSON object per line on stdout (per file, then a summary)
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the keys and endpoints given as flags into the config file
    /// (mode 0600), or show the config without the secret
    #[command(after_help = "\
Examples:
  printf '%s' \"$SECRET\" | wantu config --ak AK --sk-stdin --endpoint https://wantu.example.com
  wantu config --upload-endpoint https://up.example.com
  wantu config            # show the file's values; the secret is shown as (set)")]
    Config(ConfigArgs),

    /// List a folder: sub-folders (ending in /) then files
    #[command(after_help = "\
Examples:
  wantu ls wantu://photos/
  wantu ls -l wantu://photos/2024/
  wantu ls -r --json wantu://photos/")]
    Ls(LsArgs),

    /// Show a file's details (size, MD5, type, times, URL) or whether a folder exists
    #[command(after_help = "\
Examples:
  wantu stat wantu://photos/2024/a.jpg
  wantu stat --json wantu://photos/2024/a.jpg
  wantu stat wantu://photos/2024/")]
    Stat(PathsArgs),

    /// Delete files, or folders (-r: with everything in them)
    #[command(after_help = "\
Examples:
  wantu rm wantu://photos/2024/a.jpg
  wantu rm wantu://photos/empty/          # an empty folder
  wantu rm -r wantu://photos/2023/")]
    Rm(RmArgs),

    /// Rename or move a file within its namespace
    #[command(after_help = "\
Examples:
  wantu mv wantu://photos/a.jpg wantu://photos/b.jpg
  wantu mv wantu://photos/a.jpg wantu://photos/2024/   # keeps the name")]
    Mv(MvArgs),

    /// Create folders (and their parents)
    #[command(after_help = "\
Examples:
  wantu mkdir wantu://photos/2024/
  wantu mkdir -p wantu://photos/2024/june/")]
    Mkdir(MkdirArgs),

    /// Print the URL a file is served at
    #[command(after_help = "\
Examples:
  wantu url wantu://photos/2024/a.jpg
  curl -O \"$(wantu url wantu://photos/2024/a.jpg)\"")]
    Url(PathsArgs),

    /// Print an upload token for a policy, for another program to upload with
    #[command(after_help = "\
Examples:
  wantu token wantu://photos/inbox/ --expires 1h
  wantu token wantu://photos/inbox/a.jpg --expires 10m --insert-only
  wantu token --policy '{\"namespace\":\"photos\",\"expiration\":-1,\"dir\":\"/inbox\"}'")]
    Token(TokenArgs),

    /// Copy local files and folders to the service, or stored ones to local disk
    #[command(after_help = "\
Examples:
  wantu cp a.jpg wantu://photos/2024/
  wantu cp a.jpg wantu://photos/2024/renamed.jpg
  wantu cp --concurrency 8 --part-size 16MiB big.mp4 wantu://videos/
  wantu cp -r holiday wantu://photos/2024/        # fills wantu://photos/2024/holiday/
  wantu cp wantu://photos/2024/a.jpg .
  wantu cp -r wantu://photos/2024/ ./restore      # fills ./restore/2024/
  wantu --json cp a.jpg b.jpg wantu://photos/2024/
  ffmpeg -i in.mov -f mp4 - | wantu cp - wantu://videos/out.mp4
  wantu cp wantu://backups/site.tar - | tar x

`-` is standard input as a source (the destination names the file) and
standard output as a destination (then only the bytes go to stdout).
A folder (-r) is copied into the destination under its own name; files
already there with the same size and MD5 are skipped, so the same command
again goes on where an interrupted one stopped. Downloads are checked
against the stored MD5 and written under their final name only when
complete.

Ctrl-C stops at once and cancels the multipart uploads in flight on the
server. An upload of one file cut off by a network failure or a killed
process keeps its checkpoint (--checkpoint-dir) and the same command
resumes it; an interrupted download keeps its finished ranges beside the
target (.NAME.wantu-part) for the next run.")]
    Cp(CpArgs),

    /// Write stored files to standard output, one after the other, MD5-checked
    #[command(after_help = "\
Examples:
  wantu cat wantu://docs/readme.txt
  wantu cat wantu://backups/site.tar | tar x
  wantu cat wantu://videos/a.mp4 | md5sum
  wantu cat --range 0-1023 wantu://videos/a.mp4 > head.bin
  wantu cat --range 1048576- wantu://videos/a.mp4 | ffprobe -

Standard output carries only the bytes; messages go to stderr. A whole
file is checked against its stored MD5 as it passes: the command fails
(exit 1) when it does not match, after the bytes were written, as with
`curl URL | md5sum`. A range cannot be MD5-checked. When the reader of
the pipe goes away (`| head`), the download stops quietly with exit 1.")]
    Cat(CatArgs),

    /// Make a destination folder match a source folder (either direction)
    #[command(after_help = "\
Examples:
  wantu sync ./site wantu://www/site/
  wantu sync --delete --dry-run ./site wantu://www/site/
  wantu sync --delete --max-delete 100 ./site wantu://www/site/
  wantu sync wantu://www/site/ ./site-copy
  wantu --json sync ./site wantu://www/site/ | jq -c 'select(.status==\"uploaded\")'

A file is sent when the destination has none at its path, or one of
another size, or of the same size and another MD5; everything else is
`skipped`, so a second run sends nothing. Files of the same size and the
same modification time (uploads record it; downloads set it) are skipped
without reading them, like rsync's quick check; --checksum compares MD5s
whatever the times, --size-only compares sizes only. --delete then removes the
destination's files and folders that the source lacks, after the
transfers; nothing is deleted when interrupted, when any file failed or
could not be read, or when more than --max-delete N would go. --dry-run prints what
would be done (would_upload, would_download, would_delete) and changes
nothing. Exit code 1 when some file failed.")]
    Sync(SyncArgs),

    /// Print a shell completion script
    #[command(after_help = "\
Examples:
  wantu completions bash > ~/.local/share/bash-completion/completions/wantu
  wantu completions zsh > ~/.zfunc/_wantu
  wantu completions fish > ~/.config/fish/completions/wantu.fish")]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Read the secret key from standard input (keeps it out of shell history)
    #[arg(long)]
    pub sk_stdin: bool,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Folder to list (wantu://NAMESPACE/dir/)
    pub path: String,
    /// Also list every sub-folder, depth first
    #[arg(short, long)]
    pub recursive: bool,
    /// Long format: size, modification time (UTC), path
    #[arg(short, long)]
    pub long: bool,
}

#[derive(Debug, Args)]
pub struct PathsArgs {
    /// Remote paths (wantu://NAMESPACE/dir/name)
    #[arg(required = true)]
    pub paths: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Remote files or folders (folders end in /)
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Delete folders with all their files and sub-folders
    #[arg(short, long)]
    pub recursive: bool,
}

#[derive(Debug, Args)]
pub struct MvArgs {
    /// The file to move
    pub src: String,
    /// The new path, or a folder (ending in /) to move it into
    pub dst: String,
}

#[derive(Debug, Args)]
pub struct MkdirArgs {
    /// Folders to create
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// No error if a folder exists already
    #[arg(short, long)]
    pub parents: bool,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Where uploads with the token go: wantu://NAMESPACE/dir/ or
    /// wantu://NAMESPACE/dir/name (the name is then fixed)
    pub path: Option<String>,
    /// The whole policy as JSON (instead of a path and the flags)
    #[arg(long, conflicts_with_all = ["path", "insert_only", "expires"])]
    pub policy: Option<String>,
    /// How long the token stays valid: seconds, or a number with s, m, h or
    /// d; `never` for no expiry
    #[arg(long, default_value = "1h")]
    pub expires: String,
    /// Refuse to overwrite an existing file
    #[arg(long)]
    pub insert_only: bool,
}

#[derive(Debug, Args, Clone)]
pub struct TransferArgs {
    /// Requests in flight at once: parts of one uploaded file (1-64, 4 by
    /// default); for folders (1-64) and downloads (1-256), across all their
    /// files (the engines' defaults: docs/folders.md, docs/downloads.md)
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// Bytes per part, e.g. 8MiB (100KiB-64MiB; automatic by default)
    #[arg(long, value_name = "SIZE")]
    pub part_size: Option<String>,
    /// Skip the MD5 checks of uploads (downloads are always checked)
    #[arg(long)]
    pub no_integrity: bool,
    /// Where the resume checkpoints of single-file uploads are kept (default: $XDG_CACHE_HOME/wantu/checkpoints
    /// or ~/.cache/wantu/checkpoints)
    #[arg(long, value_name = "DIR")]
    pub checkpoint_dir: Option<PathBuf>,
    /// At most RATE bytes a second for the whole command, uploads and
    /// downloads together, e.g. 2MiB or 500K (K, M, G are 1024-based)
    #[arg(long, value_name = "RATE")]
    pub limit_rate: Option<String>,
    /// Folders only (cp -r, sync): take only the files that match this glob
    /// (repeatable). A pattern without / matches names in any folder
    /// ('*.jpg'); one with / the whole relative path ('raw/**/*.dng')
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Folders only: leave out the files that match this glob (repeatable;
    /// wins over --include). `sync --delete` leaves them alone too
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Sources, then the destination (a folder ending in / when there are
    /// several sources)
    #[arg(required = true, num_args = 2.., value_name = "SRC... DST")]
    pub paths: Vec<String>,
    /// Copy folders with everything in them
    #[arg(short, long)]
    pub recursive: bool,
    #[command(flatten)]
    pub transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub struct CatArgs {
    /// Stored files (wantu://NAMESPACE/dir/name)
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Only these bytes of one file: FIRST-LAST (inclusive, as curl -r) or
    /// FIRST- (to the end)
    #[arg(long, value_name = "A-B")]
    pub range: Option<String>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Source folder (local, or wantu://NAMESPACE/dir/)
    pub src: String,
    /// Destination folder (the other kind)
    pub dst: String,
    /// Delete destination files that the source does not have
    #[arg(long)]
    pub delete: bool,
    /// With --delete: delete nothing at all when more than N files and
    /// folders would be deleted (exit 1, saying how many)
    #[arg(long, value_name = "N", requires = "delete")]
    pub max_delete: Option<u64>,
    /// Print what would be done, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Skip files of the same size, whatever their time and content
    #[arg(long, conflicts_with = "checksum")]
    pub size_only: bool,
    /// Compare every file of the same size by MD5 (reads every local
    /// file), whatever the modification times say
    #[arg(long)]
    pub checksum: bool,
    #[command(flatten)]
    pub transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh or fish (also elvish, powershell)
    pub shell: clap_complete::Shell,
}
