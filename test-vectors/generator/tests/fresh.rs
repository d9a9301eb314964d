//! The committed vector files are exactly what the generator writes.

#[test]
fn committed_vectors_are_up_to_date() {
    let files = pushseal_vectors::generate().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name).collect();
    assert_eq!(names, pushseal_vectors::FILES);
    let dir = pushseal_vectors::vectors_dir();
    let mut stale = Vec::new();
    for f in &files {
        let path = dir.join(f.name);
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == f.contents => {}
            Ok(_) => stale.push(format!("{} differs from the generator's output", path.display())),
            Err(e) => stale.push(format!("{} cannot be read: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "test vectors are out of date; run `{}` and commit the result:\n{}",
        pushseal_vectors::COMMAND,
        stale.join("\n")
    );
}
