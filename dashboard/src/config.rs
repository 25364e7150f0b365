//! The runtime configuration, `/config.json` next to `index.html`: one build serves
//! any environment, and only the anon key ever reaches the browser.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Config {
    pub supabase_url: String,
    pub supabase_anon_key: String,
}

impl Config {
    /// Parses and checks the file; the error names the problem for the boot screen.
    pub fn parse(text: &str) -> Result<Config, String> {
        let mut config: Config =
            serde_json::from_str(text).map_err(|e| format!("config.json is not valid: {e}"))?;
        config.supabase_url = config.supabase_url.trim_end_matches('/').to_string();
        if !config.supabase_url.starts_with("http") {
            return Err("config.json: supabase_url must be an http(s) URL".into());
        }
        if config.supabase_anon_key.trim().is_empty() {
            return Err("config.json: supabase_anon_key is empty".into());
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_file_is_read_and_its_url_normalized() {
        let c =
            Config::parse(r#"{"supabase_url":"http://127.0.0.1:54321/","supabase_anon_key":"k"}"#)
                .unwrap();
        assert_eq!(c.supabase_url, "http://127.0.0.1:54321");
    }

    #[test]
    fn a_config_without_a_key_or_url_is_refused_with_a_reason() {
        assert!(
            Config::parse(r#"{"supabase_url":"http://x","supabase_anon_key":" "}"#)
                .unwrap_err()
                .contains("anon_key")
        );
        assert!(
            Config::parse(r#"{"supabase_url":"ftp://x","supabase_anon_key":"k"}"#)
                .unwrap_err()
                .contains("supabase_url")
        );
        assert!(Config::parse("{").unwrap_err().contains("not valid"));
    }
}
