//! Who the server says it is. The Functions host reads the same facts from host.json's
//! `extensions.mcp`; a test keeps the two equal so both front doors introduce themselves alike.

pub const NAME: &str = "rust-mcp-functions";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const INSTRUCTIONS: &str = "Tools served by a Rust custom handler on Azure Functions. hello_mcp checks the connection; save_snippet and get_snippet store and fetch named text snippets.";

#[cfg(test)]
mod tests {
    #[test]
    fn host_json_says_the_same() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/host.json"))
            .unwrap_or_default();
        let host: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let mcp = &host["extensions"]["mcp"];
        assert_eq!(mcp["serverName"], super::NAME);
        assert_eq!(mcp["serverVersion"], super::VERSION);
        assert_eq!(mcp["instructions"], super::INSTRUCTIONS);
    }
}
