//! `config.example.toml` cannot drift from the settings the binary knows: as it is, it parses
//! into the default [`Config`] (every value it shows is the default); with its commented settings
//! (`# key = value`, `# [[section.table]]`) uncommented it still parses and validates; and every
//! setting of [`config::env_settings`] appears in it — those with a default uncommented, those
//! without (and arrays of tables) at least as a commented example. A missing setting fails with
//! the list of every missing key.

use std::path::PathBuf;

use data_tasks::config::{self, Config};
use data_tasks::secrets::Env;

fn example_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")
}

fn example() -> String {
    std::fs::read_to_string(example_path()).expect("config.example.toml at the repository root")
}

/// A commented setting: `# key = value`, `# [table]` or `# [[array.of.tables]]`, with exactly
/// one space after `#` (prose and indented examples are left alone).
fn commented_setting(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("# ")?;
    let key_len = rest
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(rest.len());
    let is_key = key_len > 0 && rest[key_len..].starts_with(" = ");
    (is_key || rest.starts_with('[')).then_some(rest)
}

/// The example with every commented setting uncommented.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|line| commented_setting(line).unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

fn lookup<'a>(table: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    let value = table.get(first)?;
    match rest {
        [] => Some(value),
        _ => lookup(value.as_table()?, rest),
    }
}

fn is_array_of_tables(v: &toml::Value) -> bool {
    v.as_array()
        .is_some_and(|items| !items.is_empty() && items.iter().all(toml::Value::is_table))
}

fn load(text: &str, name: &str) -> Config {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    Config::load(Some(&path), &Env::default()).unwrap_or_else(|e| {
        panic!(
            "{name} does not load: {}",
            data_tasks::outcome::error_chain(&e)
        )
    })
}

#[test]
fn as_it_is_the_example_is_the_default_configuration() {
    assert_eq!(
        load(&example(), "config.example.toml"),
        Config::default(),
        "a value shown in config.example.toml differs from its default"
    );
}

#[test]
fn with_its_commented_settings_the_example_still_loads() {
    let text = uncommented(&example());
    let config = load(&text, "config.example.uncommented.toml");
    assert!(config.sources.georisques_dump.is_some());
    assert!(!config.visionature.site.is_empty());
}

#[test]
fn every_setting_the_binary_knows_is_in_the_example() {
    let text = example();
    let shown: toml::Table = text.parse().unwrap();
    let all: toml::Table = uncommented(&text).parse().unwrap();
    let mut missing = Vec::new();
    let mut commented_with_default = Vec::new();
    for setting in config::env_settings() {
        let key = setting.path.join(".");
        match lookup(&all, &setting.path) {
            None => missing.push(key),
            Some(v) if is_array_of_tables(v) || setting.default.is_null() => {}
            Some(_) if lookup(&shown, &setting.path).is_none() => commented_with_default.push(key),
            Some(_) => {}
        }
    }
    assert!(
        missing.is_empty(),
        "config.example.toml lacks these settings (add each with its default, commented when it \
         has none; arrays of tables as a commented example): {}",
        missing.join(", ")
    );
    assert!(
        commented_with_default.is_empty(),
        "these settings have a default but are only shown commented in config.example.toml \
         (show them uncommented, with their default): {}",
        commented_with_default.join(", ")
    );
}

#[test]
fn the_readme_and_the_error_for_unknown_variables_point_at_the_example() {
    let readme = std::fs::read_to_string(example_path().with_file_name("README.md")).unwrap();
    assert!(readme.contains("(config.example.toml)"), "README links it");
    let e = Config::load(None, &Env::from_pairs([("DATA_TASKS_STORAGE_MSIC", "x")])).unwrap_err();
    assert!(e.to_string().contains("config.example.toml"), "{e}");
}
