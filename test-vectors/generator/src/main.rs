//! Writes PushSeal's test vectors to `test-vectors/`: `cargo run -p pushseal-vectors`.
//! With `--check`, writes nothing and exits with status 1 if a file is out of date.

use std::process::ExitCode;

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(_) => {
            eprintln!("usage: {} [--check]", pushseal_vectors::COMMAND);
            return ExitCode::from(2);
        }
    };
    let files = match pushseal_vectors::generate() {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = pushseal_vectors::vectors_dir();
    let mut stale = 0;
    for f in &files {
        let path = dir.join(f.name);
        let current = std::fs::read_to_string(&path).ok();
        let fresh = current.as_deref() == Some(f.contents.as_str());
        if check {
            if !fresh {
                eprintln!("{} is out of date", path.display());
                stale += 1;
            }
            continue;
        }
        if !fresh && let Err(e) = std::fs::write(&path, &f.contents) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{} {} vectors ({})", path.display(), f.count, if fresh { "unchanged" } else { "written" });
    }
    if stale > 0 {
        eprintln!("run `{}` to regenerate", pushseal_vectors::COMMAND);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
