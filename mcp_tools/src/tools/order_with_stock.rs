//! `get_order_with_stock`: a hand-written tool on the orders API that combines two calls,
//! an order and the stock level of each product on it, into one answer an agent can act on
//! ("can this order ship?").

use std::collections::BTreeSet;

use rmcp::model::ToolAnnotations;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::downstream::request::encode_segment;
use crate::downstream::{ApiHandle, DownstreamRequest};
use crate::tool::Structured;
use crate::{ToolContext, ToolError, TypedTool};

/// More distinct products than this on one order is beyond what one call should fan out to.
const MAX_PRODUCTS: usize = 50;

pub struct OrderWithStock {
    pub(crate) api: ApiHandle,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Input {
    /// The order's id, e.g. `ORD-2024-000123`.
    #[schemars(length(min = 1, max = 40), regex(pattern = r"^[A-Za-z0-9-]{1,40}$"))]
    pub order_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    pub order_id: String,
    /// The order's status (`draft`, `placed`, `packed`, `shipped`, …).
    pub status: String,
    /// True when every line can be served from the stock available now.
    pub can_ship: bool,
    pub lines: Vec<LineStock>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineStock {
    pub sku: String,
    pub quantity: u64,
    /// Units of this product available now across all warehouses.
    pub available: u64,
    /// Whether the available units cover every line of the order with this product.
    pub enough: bool,
}

/// The parts of the API's `Order` this tool reads.
#[derive(Debug, Deserialize)]
struct Order {
    id: String,
    #[serde(default)]
    status: String,
    lines: Vec<OrderLine>,
}

#[derive(Debug, Deserialize)]
struct OrderLine {
    sku: String,
    quantity: u64,
}

#[derive(Debug, Deserialize)]
struct StockLevel {
    sku: String,
    available: u64,
}

impl TypedTool for OrderWithStock {
    type Input = Input;
    type Output = Structured<Output>;
    const NAME: &'static str = "get_order_with_stock";
    const DESCRIPTION: &'static str = "An order with the current stock level of each product \
        on it, and whether the order can ship from the stock available now.";

    fn annotations() -> ToolAnnotations {
        ToolAnnotations::with_title("Order with stock levels")
            .read_only(true)
            .idempotent(true)
            .open_world(true)
    }

    #[tracing::instrument(skip_all, fields(tool = Self::NAME))]
    async fn call(&self, input: Input, ctx: ToolContext) -> Result<Structured<Output>, ToolError> {
        let client = self.api.client()?.clone();
        let order: Order = client
            .get_json(
                &DownstreamRequest::get(
                    "/orders/{orderId}",
                    format!("/orders/{}", encode_segment(&input.order_id)),
                ),
                &ctx,
            )
            .await?;
        let skus: BTreeSet<&str> = order.lines.iter().map(|l| l.sku.as_str()).collect();
        if skus.len() > MAX_PRODUCTS {
            return Err(ToolError::failed(
                format!(
                    "Order {} has {} different products; this tool looks up at most {MAX_PRODUCTS}. \
                     Use get_order and get_stock_level instead.",
                    order.id,
                    skus.len()
                ),
                false,
            ));
        }
        // The API's bulkhead bounds how many of these run at once.
        let mut lookups = JoinSet::new();
        for sku in skus {
            let client = client.clone();
            let ctx = ctx.clone();
            let request = DownstreamRequest::get(
                "/products/{sku}/stock",
                format!("/products/{}/stock", encode_segment(sku)),
            );
            lookups.spawn(
                async move { client.get_json::<StockLevel>(&request, &ctx).await }
                    .in_current_span(),
            );
        }
        let mut levels = Vec::new();
        while let Some(joined) = lookups.join_next().await {
            let level =
                joined.map_err(|e| ToolError::Internal(format!("stock lookup task: {e}")))??;
            levels.push(level);
        }
        // A product on several lines needs its stock for all of them.
        let wanted = |sku: &str| -> u64 {
            order
                .lines
                .iter()
                .filter(|l| l.sku == sku)
                .map(|l| l.quantity)
                .sum()
        };
        let lines: Vec<LineStock> = order
            .lines
            .iter()
            .map(|line| {
                let available = levels
                    .iter()
                    .find(|l| l.sku == line.sku)
                    .map_or(0, |l| l.available);
                LineStock {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    available,
                    enough: available >= wanted(&line.sku),
                }
            })
            .collect();
        Ok(Structured::new(Output {
            order_id: order.id,
            status: order.status,
            can_ship: lines.iter().all(|l| l.enough),
            lines,
        }))
    }
}
