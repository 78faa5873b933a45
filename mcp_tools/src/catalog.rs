//! Every tool the crate offers, wired to the downstream clients they call: the hand-written
//! tools and the tools generated from each embedded OpenAPI document.

use crate::apis::{EMBEDDED, EmbeddedApi};
use crate::downstream::{Downstream, DownstreamConfig, DownstreamConfigError};
use crate::openapi::{self, Document, OpenApiError, Selection};
use crate::tools::{GetSnippet, HelloMcp, OrderWithStock, SaveSnippet};
use crate::{Registry, RegistryError};

/// The settings key of the orders API, which the hand-written `get_order_with_stock` uses.
const ORDERS_KEY: &str = "ORDERS";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Downstream(#[from] DownstreamConfigError),
    #[error("embedded API `{api}`: {error}")]
    OpenApi { api: String, error: OpenApiError },
}

/// The settings keys of every API a tool calls (`ORDERS` → `DOWNSTREAM__ORDERS__*`).
pub fn settings_keys() -> Vec<String> {
    let mut keys: Vec<String> = EMBEDDED
        .iter()
        .filter_map(|api| Selection::parse(api.selection).ok())
        .map(|s| s.settings_key)
        .collect();
    keys.push(ORDERS_KEY.to_owned());
    keys.sort();
    keys.dedup();
    keys
}

/// Reads `DOWNSTREAM__<API>__*` for every API the tools call, plus the identity settings.
pub fn downstream_config(
    env: impl Fn(&str) -> Option<String>,
) -> Result<DownstreamConfig, DownstreamConfigError> {
    let keys = settings_keys();
    DownstreamConfig::from_env(keys.iter().map(String::as_str), env)
}

/// The registry of every tool. With an empty config every tool is still listed (function.json
/// generation needs no settings); calls to an unconfigured API say which setting is missing.
pub fn build_registry(config: &DownstreamConfig) -> Result<Registry, BuildError> {
    build_with(&Downstream::new(config)?)
}

/// [`build_registry`] over clients already built (tests inspect the clients afterwards).
pub fn build_with(downstream: &Downstream) -> Result<Registry, BuildError> {
    let mut registry = Registry::new();
    registry.register_typed(HelloMcp)?;
    registry.register_typed(GetSnippet)?;
    registry.register_typed(SaveSnippet)?;
    for api in EMBEDDED {
        let (selection, document) = parse(api)?;
        let handle = downstream.api(&selection.api, &selection.settings_key);
        let tools = openapi::tools(&document, &selection, &handle).map_err(|error| {
            BuildError::OpenApi {
                api: api.folder.to_owned(),
                error,
            }
        })?;
        for tool in tools {
            registry.register(tool)?;
        }
    }
    registry.register_typed(OrderWithStock {
        api: downstream.api("orders", ORDERS_KEY),
    })?;
    Ok(registry)
}

fn parse(api: &EmbeddedApi) -> Result<(Selection, Document), BuildError> {
    let wrap = |error| BuildError::OpenApi {
        api: api.folder.to_owned(),
        error,
    };
    Ok((
        Selection::parse(api.selection).map_err(wrap)?,
        Document::parse(api.spec).map_err(wrap)?,
    ))
}
