//! What tokens cost: a price table (USD per million tokens, per model or model prefix)
//! and the provider a model belongs to. Prices are estimates an admin keeps up to date;
//! a model with no price shows its tokens and "no price", never a made-up figure.
use crate::run::TokenUsage;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Most models a table may hold (it is read on every metrics page).
pub const MAX_PRICES: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// A model name, or a prefix ending in `*` (`claude-sonnet-4*`).
    pub model: String,
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    pub cache_write: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTable {
    pub prices: Vec<Price>,
}

impl Default for PriceTable {
    /// List prices at the time of writing; the demo's mock model is free.
    fn default() -> Self {
        let p = |model: &str, input, output, cache_read, cache_write| Price {
            model: model.into(),
            input,
            output,
            cache_read,
            cache_write,
        };
        PriceTable {
            prices: vec![
                p("claude-opus-4*", 15.0, 75.0, 1.5, 18.75),
                p("claude-sonnet-4*", 3.0, 15.0, 0.3, 3.75),
                p("claude-haiku-4*", 1.0, 5.0, 0.1, 1.25),
                p("gpt-5*", 1.25, 10.0, 0.125, 1.25),
                p("gpt-4.1*", 2.0, 8.0, 0.5, 2.0),
                p("gemini-2.5-pro*", 1.25, 10.0, 0.31, 1.25),
                p("mock-*", 0.0, 0.0, 0.0, 0.0),
            ],
        }
    }
}

impl PriceTable {
    /// The price of `model`: an exact entry, else the longest matching prefix.
    pub fn price_for(&self, model: &str) -> Option<&Price> {
        self.prices.iter().find(|p| p.model == model).or_else(|| {
            self.prices
                .iter()
                .filter_map(|p| Some((p, p.model.strip_suffix('*')?)))
                .filter(|(_, prefix)| model.starts_with(prefix))
                .max_by_key(|(_, prefix)| prefix.len())
                .map(|(p, _)| p)
        })
    }

    /// The estimated cost in USD, or `None` when the model has no price.
    pub fn cost(&self, usage: &TokenUsage) -> Option<f64> {
        let p = self.price_for(&usage.model)?;
        let per_million = |tokens: u64, usd: f64| tokens as f64 * usd / 1_000_000.0;
        Some(
            per_million(usage.input_tokens, p.input)
                + per_million(usage.output_tokens, p.output)
                + per_million(usage.cache_read_tokens, p.cache_read)
                + per_million(usage.cache_write_tokens, p.cache_write),
        )
    }

    /// The cost of a run's usage over all its models; `None` if one has no price.
    pub fn cost_of(&self, usage: &[TokenUsage]) -> Option<f64> {
        usage.iter().map(|u| self.cost(u)).sum()
    }

    /// Every problem at once, each naming its model.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.prices.len() > MAX_PRICES {
            problems.push(format!(
                "the table has {} models; at most {MAX_PRICES}",
                self.prices.len()
            ));
        }
        for (i, p) in self.prices.iter().enumerate() {
            let name = p.model.trim();
            if name.is_empty() || name.contains(char::is_whitespace) || name.len() > 100 {
                problems.push(format!(
                    "entry {}: '{}' is not a model name (no spaces, at most 100 characters)",
                    i + 1,
                    p.model
                ));
            }
            if self.prices[..i].iter().any(|q| q.model == p.model) {
                problems.push(format!("{} is listed twice", p.model));
            }
            for (what, usd) in [
                ("input", p.input),
                ("output", p.output),
                ("cache read", p.cache_read),
                ("cache write", p.cache_write),
            ] {
                if !usd.is_finite() || usd < 0.0 {
                    problems.push(format!(
                        "{}: the {what} price {usd} must be zero or more",
                        p.model
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::bad_request(format!(
                "The price table was not saved: {}.",
                problems.join("; ")
            )))
        }
    }

    /// One line per model: `model input output [cache_read [cache_write]]`, USD per
    /// million tokens; `#` starts a comment. Errors name the line.
    pub fn parse(text: &str) -> Result<PriceTable> {
        let mut prices = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            prices.push(parse_line(line).map_err(|why| {
                Error::bad_request(format!(
                    "Line {}: {why}. Write: model input output [cache-read] [cache-write], in USD per million tokens.",
                    n + 1
                ))
            })?);
        }
        let table = PriceTable { prices };
        table.validate()?;
        Ok(table)
    }

    /// The table as [`PriceTable::parse`] reads it.
    pub fn to_text(&self) -> String {
        let mut out = String::from(
            "# model  input  output  cache-read  cache-write  (USD per million tokens)\n",
        );
        for p in &self.prices {
            out.push_str(&format!(
                "{} {} {} {} {}\n",
                p.model, p.input, p.output, p.cache_read, p.cache_write
            ));
        }
        out
    }
}

fn parse_line(line: &str) -> std::result::Result<Price, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if !(3..=5).contains(&fields.len()) {
        return Err(format!("'{line}' has {} fields, not 3 to 5", fields.len()));
    }
    let number = |i: usize| -> std::result::Result<f64, String> {
        match fields.get(i) {
            None => Ok(0.0),
            Some(s) => s
                .parse::<f64>()
                .map_err(|_| format!("'{s}' is not a number")),
        }
    };
    Ok(Price {
        model: fields[0].to_string(),
        input: number(1)?,
        output: number(2)?,
        cache_read: number(3)?,
        cache_write: number(4)?,
    })
}

/// The company behind a model, from its name ("unknown" when it can't be told).
pub fn provider_of(model: &str) -> &'static str {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| m.starts_with(p));
    if starts(&["claude"]) {
        "anthropic"
    } else if starts(&["gpt", "o1", "o3", "o4", "codex"]) {
        "openai"
    } else if starts(&["gemini"]) {
        "google"
    } else if starts(&["mistral", "codestral", "devstral"]) {
        "mistral"
    } else if starts(&["mock"]) {
        "mock"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(model: &str, input: u64, output: u64) -> TokenUsage {
        TokenUsage {
            model: model.into(),
            input_tokens: input,
            output_tokens: output,
            ..TokenUsage::default()
        }
    }

    #[test]
    fn an_exact_entry_wins_over_the_longest_prefix() {
        let table = PriceTable::parse(
            "claude-* 1 1\nclaude-sonnet-4* 3 15\nclaude-sonnet-4-5 4 20 # newer\n",
        )
        .unwrap();
        assert_eq!(table.price_for("claude-sonnet-4-5").unwrap().input, 4.0);
        assert_eq!(table.price_for("claude-sonnet-4-0").unwrap().input, 3.0);
        assert_eq!(table.price_for("claude-3-haiku").unwrap().input, 1.0);
        assert!(table.price_for("gpt-5").is_none());
    }

    #[test]
    fn cost_is_per_million_tokens_and_absent_without_a_price() {
        let table = PriceTable::default();
        let cost = table
            .cost(&usage("claude-sonnet-4-5", 1_000_000, 200_000))
            .unwrap();
        assert!((cost - (3.0 + 3.0)).abs() < 1e-9, "{cost}");
        assert_eq!(table.cost(&usage("mock-demo-1", 5000, 5000)), Some(0.0));
        assert_eq!(table.cost(&usage("some-new-model", 1, 1)), None);
    }

    #[test]
    fn bad_tables_are_refused_naming_every_problem() {
        let err = PriceTable::parse("gpt-5 -1 10\n").unwrap_err();
        assert_eq!(err.code.http_status(), 400);
        assert!(err
            .message
            .contains("gpt-5: the input price -1 must be zero or more"));
        let err = PriceTable::parse("ok 1 1\nbroken one two\n").unwrap_err();
        assert!(
            err.message.starts_with("Line 2: 'one' is not a number"),
            "{}",
            err.message
        );
        let err = PriceTable::parse("a 1 1\na 2 2\nb 1 NaN\n").unwrap_err();
        assert!(err.message.contains("a is listed twice"), "{}", err.message);
        assert!(
            err.message
                .contains("b: the output price NaN must be zero or more"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_text_form_reads_back_to_the_same_table() {
        let table = PriceTable::default();
        assert_eq!(PriceTable::parse(&table.to_text()).unwrap(), table);
    }

    #[test]
    fn providers_come_from_model_names() {
        assert_eq!(provider_of("claude-sonnet-4-5"), "anthropic");
        assert_eq!(provider_of("anthropic/claude-opus-4"), "anthropic");
        assert_eq!(provider_of("gpt-5-codex"), "openai");
        assert_eq!(provider_of("gemini-2.5-pro"), "google");
        assert_eq!(provider_of("mock-demo-1"), "mock");
        assert_eq!(provider_of("llama-3"), "unknown");
    }
}
