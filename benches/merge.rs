//! `cargo bench --bench merge`: the time to land one approved work order
//! (no check) with `orc merge`, a whole process, on a repository of 10,000
//! commits and 5,000 files, against `git merge` of the same grove head in
//! a worktree of the same repository, measured side by side in one run.
//!
//! Each sample: an IMP commits a change in its grove, a work order is
//! created, assigned and handed in (untimed; review policy none, so it is
//! approved at once). Then, timed, `git merge --no-ff` of the grove's head
//! into a worktree reset to the integration branch's tip (the baseline),
//! and `orc merge` (which brings the same head onto the integration branch
//! in its train worktree, moves the branch by compare-and-swap and records
//! the landing on the ledger).
//!
//! `cargo bench --bench merge -- --quick` uses 1,000 commits and fewer
//! samples.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_orc"))
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .args(["-c", "user.name=bench", "-c", "user.email=bench@orc"]);
    c
}

fn orc(dir: &Path) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(dir);
    c
}

/// A repository with `files` files and `commits` commits on `main`, made
/// with `git fast-import` (the first commit adds every file, each later
/// one changes one).
fn build(repo: &Path, files: usize, commits: usize) {
    std::fs::create_dir_all(repo).unwrap();
    sh(git(repo).args(["init", "-q", "-b", "main"]));
    let mut child = git(repo)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut w = std::io::BufWriter::new(child.stdin.take().unwrap());
        for c in 0..commits {
            let msg = format!("commit {c}");
            write!(
                w,
                "commit refs/heads/main\nmark :{}\ncommitter bench <bench@orc> {} +0000\ndata {}\n{msg}\n",
                c + 1,
                1_700_000_000 + c,
                msg.len()
            )
            .unwrap();
            if c > 0 {
                writeln!(w, "from :{c}").unwrap();
            }
            let changed: Vec<usize> = if c == 0 {
                (0..files).collect()
            } else {
                vec![(c * 7919) % files]
            };
            for f in changed {
                let body = format!("file {f}, version {c}\n");
                write!(
                    w,
                    "M 100644 inline src/d{}/f{f}.txt\ndata {}\n{body}\n",
                    f % 50,
                    body.len()
                )
                .unwrap();
            }
            writeln!(w).unwrap();
        }
    }
    let st = child.wait().unwrap();
    assert!(st.success());
    sh(git(repo).args(["reset", "-q", "--hard", "main"]));
}

fn median(mut xs: Vec<f64>) -> (f64, f64) {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p99 = xs[((xs.len() as f64 * 0.99).ceil() as usize)
        .saturating_sub(1)
        .min(xs.len() - 1)];
    (xs[xs.len() / 2], p99)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (commits, files, samples) = if quick {
        (1_000, 5_000, 7)
    } else {
        (10_000, 5_000, 21)
    };
    let home = tempfile::tempdir().unwrap();
    let root = home.path().canonicalize().unwrap();
    // SAFETY: single-threaded at this point.
    unsafe {
        std::env::set_var("HOME", &root);
        std::env::set_var("ORC_HOME", root.join(".orc"));
        std::env::set_var("GIT_CONFIG_GLOBAL", "/dev/null");
        std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
        std::env::remove_var("ORC_NOW");
        std::env::remove_var("ORC_ACTOR");
        std::env::remove_var("TMUX");
    }
    std::fs::create_dir_all(root.join(".orc")).unwrap();
    std::fs::write(
        root.join(".orc/orc.toml"),
        format!(
            "missions_root = {:?}\nworktrees_root = {:?}\n",
            root.join("missions").display().to_string(),
            root.join("worktrees").display().to_string()
        ),
    )
    .unwrap();
    let repo = root.join("repo");
    let t = Instant::now();
    build(&repo, files, commits);
    let count = sh(git(&repo).args(["rev-list", "--count", "main"]));
    let tracked = sh(git(&repo).args(["ls-files"])).lines().count();
    println!(
        "orc merge benchmark: {count} commits, {tracked} files (built in {:.1}s), {samples} samples",
        t.elapsed().as_secs_f64()
    );
    sh(orc(&repo).args(["init"]));
    sh(orc(&repo).args(["mission", "create", "Bench", "--no-hooks"]));
    sh(orc(&repo).args(["grove", "create", "imp", "--no-hooks"]));
    let grove = PathBuf::from(
        sh(orc(&repo).args(["grove", "show", "imp", "--json"]))
            .split("\"path\": \"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap(),
    );
    let base = root.join("baseline");
    sh(git(&repo)
        .args(["worktree", "add", "-q", "--detach"])
        .arg(&base)
        .arg("main"));
    let mut orc_ms = Vec::new();
    let mut git_ms = Vec::new();
    for i in 0..=samples {
        // An approved work order whose head is one new commit (untimed).
        let id = sh(orc(&repo).args(["wo", "create", &format!("change {i}")]));
        sh(orc(&repo).args(["assign", &id, "--grove", "imp"]));
        let f = (i * 31) % files;
        let file = format!("src/d{}/f{f}.txt", f % 50);
        std::fs::write(grove.join(&file), format!("changed by sample {i}\n")).unwrap();
        sh(git(&grove).args(["commit", "-q", "-am", &format!("sample {i}")]));
        sh(orc(&grove).args(["work", "done", &id]));
        let head = sh(git(&grove).args(["rev-parse", "HEAD"]));
        let tip = sh(git(&repo).args(["rev-parse", "orc-mission/MISSION-001"]));
        // Baseline: git merge of the same head in a worktree at the tip.
        sh(git(&base).args(["checkout", "-q", "--detach", &tip]));
        let t = Instant::now();
        sh(git(&base).args(["merge", "--no-ff", "--no-edit", "-q", &head]));
        let g = t.elapsed().as_secs_f64() * 1000.0;
        // orc: the whole process.
        let t = Instant::now();
        sh(orc(&repo).args(["merge"]));
        let o = t.elapsed().as_secs_f64() * 1000.0;
        let landed = sh(orc(&repo).args(["wo", "show", &id, "--json"]));
        assert!(landed.contains("\"landed\""), "{id} landed: {landed}");
        // The first sample warms up (and makes the train's worktree).
        if i > 0 {
            git_ms.push(g);
            orc_ms.push(o);
        }
    }
    let (gm, gp) = median(git_ms);
    let (om, op) = median(orc_ms);
    println!(
        "  {:<58} {:>9.2} ms  p99 {:>9.2} ms",
        "orc merge (one approved work order, no check), whole process", om, op
    );
    println!(
        "  {:<58} {:>9.2} ms  p99 {:>9.2} ms",
        "git merge --no-ff of the same head in a worktree", gm, gp
    );
    println!("  ratio orc / git merge: {:.2}", om / gm);
}
