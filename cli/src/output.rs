//! What commands print: `-o table` (default, for people; colours on a terminal unless
//! `NO_COLOR`), `-o json` (the API's own field names) or `-o yaml`.
use crate::error::{CliError, Result};
use serde::Serialize;
use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

/// Rows under headers, columns padded to their widest cell.
#[derive(Debug, Default)]
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// A cell's text and its tone on a terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Plain,
    Good,
    Warn,
    Bad,
    Dim,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell {
            text,
            tone: Tone::Plain,
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        text.to_string().into()
    }
}

impl Cell {
    pub fn toned(text: impl Into<String>, tone: Tone) -> Cell {
        Cell {
            text: text.into(),
            tone,
        }
    }
}

/// Whether to colour: a terminal, and no `NO_COLOR`.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

impl Table {
    pub fn render(&self, colour: bool) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.text.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: Vec<Cell>, out: &mut String| {
            let last = cells.len().saturating_sub(1);
            for (i, cell) in cells.into_iter().enumerate() {
                let pad = if i == last {
                    0
                } else {
                    widths[i] - cell.text.chars().count() + 2
                };
                out.push_str(&paint(&cell, colour));
                out.push_str(&" ".repeat(pad));
            }
            out.push('\n');
        };
        let headers = self
            .headers
            .iter()
            .map(|h| Cell::toned(h.to_uppercase(), Tone::Dim))
            .collect();
        line(headers, &mut out);
        for row in &self.rows {
            line(row.clone(), &mut out);
        }
        out
    }
}

fn paint(cell: &Cell, colour: bool) -> String {
    let code = match (colour, cell.tone) {
        (false, _) | (_, Tone::Plain) => return cell.text.clone(),
        (_, Tone::Good) => "32",
        (_, Tone::Warn) => "33",
        (_, Tone::Bad) => "31",
        (_, Tone::Dim) => "2",
    };
    format!("\x1b[{code}m{}\x1b[0m", cell.text)
}

/// Prints `value` as asked: JSON and YAML as the API has it, a table by `table`.
pub fn print<T: Serialize>(
    format: Format,
    value: &T,
    table: impl FnOnce(&T) -> Result<Table>,
) -> Result<()> {
    let text = match format {
        Format::Json => {
            serde_json::to_string_pretty(value).map_err(|e| CliError::Failed(e.to_string()))? + "\n"
        }
        Format::Yaml => {
            serde_saphyr::to_string(value).map_err(|e| CliError::Failed(e.to_string()))?
        }
        Format::Table => {
            let table = table(value)?;
            if table.rows.is_empty() {
                eprintln!("Nothing here yet.");
                return Ok(());
            }
            table.render(colour())
        }
    };
    print!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_columns_and_colour_only_when_asked() {
        let table = Table {
            headers: vec!["id", "status"],
            rows: vec![
                vec!["01ABC".into(), Cell::toned("failed", Tone::Bad)],
                vec!["7".into(), Cell::toned("finished", Tone::Good)],
            ],
        };
        assert_eq!(
            table.render(false),
            "ID     STATUS\n01ABC  failed\n7      finished\n"
        );
        let coloured = table.render(true);
        assert!(coloured.contains("\x1b[31mfailed\x1b[0m"), "{coloured:?}");
    }
}
