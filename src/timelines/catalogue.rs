//! Product catalogues (`--products FILE`): CSV with a header, UTF-8 or GBK, one product per
//! row — `sku`, `name`, optional `price`, `aliases` (separated by `|`), `category`; the
//! usual Chinese headers (商品ID, 商品名称, 价格, 别名, 类目) are read too. A row without
//! a SKU or a name, with a price that is not a number, or repeating a SKU is skipped and
//! counted (an error naming the file and line with `--strict`), as in the other exports.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::csvrows::{column, missing_column, next_row, with_headers};
use super::orders::parse_amount;
use super::text::TextReader;
use super::{ParseReport, TimelineError};

const SKU_COLUMNS: &[&str] = &[
    "sku",
    "sku_id",
    "skuid",
    "商品id",
    "product_id",
    "商品编码",
    "item_id",
];
const NAME_COLUMNS: &[&str] = &[
    "name",
    "product_name",
    "title",
    "商品名称",
    "商品名",
    "名称",
    "商品标题",
];
const PRICE_COLUMNS: &[&str] = &["price", "价格", "售价", "直播价", "到手价", "单价"];
const ALIAS_COLUMNS: &[&str] = &["aliases", "alias", "别名", "简称", "关键词"];
const CATEGORY_COLUMNS: &[&str] = &["category", "类目", "品类", "分类"];

/// One product of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

impl Product {
    /// A product known only by its SKU (no catalogue: the SKUs seen in the orders).
    pub fn from_sku(sku: &str) -> Self {
        Self {
            sku: sku.into(),
            name: sku.into(),
            price: None,
            aliases: Vec::new(),
            category: None,
        }
    }
}

/// Read a catalogue.
pub fn read_catalogue(
    path: &Path,
    strict: bool,
) -> Result<(Vec<Product>, ParseReport), TimelineError> {
    read_catalogue_from(path, TextReader::open(path)?, strict)
}

/// Read a catalogue from `text` (named `path` in messages).
pub fn read_catalogue_from(
    path: &Path,
    text: TextReader,
    strict: bool,
) -> Result<(Vec<Product>, ParseReport), TimelineError> {
    let mut report = ParseReport::new(path, "products-csv", text.encoding, strict);
    let (mut rdr, headers) = with_headers(path, text)?;
    let find = |names: &[&str]| column(&headers, names);
    let missing = |what: &str, names: &[&str]| missing_column(path, &headers, what, names);
    let sku_col = find(SKU_COLUMNS).ok_or_else(|| missing("SKU", SKU_COLUMNS))?;
    let name_col = find(NAME_COLUMNS).ok_or_else(|| missing("product name", NAME_COLUMNS))?;
    let price_col = find(PRICE_COLUMNS);
    let alias_col = find(ALIAS_COLUMNS);
    let category_col = find(CATEGORY_COLUMNS);

    let mut products = Vec::new();
    let mut seen = HashSet::new();
    let mut record = csv::StringRecord::new();
    while let Some(line) = next_row(&mut rdr, &mut record, &mut report)? {
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").trim();
        let sku = get(Some(sku_col));
        let name = get(Some(name_col));
        if sku.is_empty() {
            report.skip(line, "no SKU")?;
            continue;
        }
        if name.is_empty() {
            report.skip(line, format!("no name for SKU {sku:?}"))?;
            continue;
        }
        if !seen.insert(sku.to_string()) {
            report.skip(line, format!("SKU {sku:?} listed again"))?;
            continue;
        }
        let price = match get(price_col) {
            "" => None,
            p => match parse_amount(p) {
                Some(v) if v >= 0.0 => Some(v),
                _ => {
                    report.skip(line, format!("bad price {p:?}"))?;
                    continue;
                }
            },
        };
        let aliases = get(alias_col)
            .split(['|', '｜'])
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != name)
            .map(str::to_string)
            .collect();
        let category = Some(get(category_col))
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        report.rows_used += 1;
        products.push(Product {
            sku: sku.into(),
            name: name.into(),
            price,
            aliases,
            category,
        });
    }
    if products.is_empty() {
        return Err(TimelineError::Format {
            path: path.to_path_buf(),
            line: 1,
            message: format!("no usable product row ({} skipped)", report.rows_skipped),
        });
    }
    Ok((products, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8], strict: bool) -> Result<(Vec<Product>, ParseReport), TimelineError> {
        let path = std::env::temp_dir().join(format!(
            "livecut-catalogue-{}-{}.csv",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&path, text).unwrap();
        let r = read_catalogue(&path, strict);
        std::fs::remove_file(&path).ok();
        r
    }

    #[test]
    fn english_and_chinese_headers_utf8_and_gbk() {
        let (p, rep) = read(
            b"sku,name,price,aliases,category\nA1,Phone case,99,case|shell,accessories\nB2,Cable,,,\n",
            false,
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].price, Some(99.0));
        assert_eq!(p[0].aliases, ["case", "shell"]);
        assert_eq!(p[0].category.as_deref(), Some("accessories"));
        assert_eq!((p[1].price, p[1].aliases.len()), (None, 0));
        assert_eq!(rep.rows_used, 2);

        let text = "商品ID,商品名称,价格,别名,类目\nSKU-A100,手机壳,￥99.00,壳子｜保护壳,配件\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let (p, rep) = read(&gbk, false).unwrap();
        assert_eq!(rep.encoding, "gb18030");
        assert_eq!(p[0].sku, "SKU-A100");
        assert_eq!(p[0].name, "手机壳");
        assert_eq!(p[0].price, Some(99.0));
        assert_eq!(p[0].aliases, ["壳子", "保护壳"]);
    }

    #[test]
    fn bad_rows_are_skipped_and_counted_or_an_error_with_the_line_in_strict_mode() {
        let text =
            b"sku,name,price\nA1,Case,99\n,No sku,1\nB2,,5\nA1,Again,3\nC3,Lamp,cheap\nD4,Mug,12\n";
        let (p, rep) = read(text, false).unwrap();
        assert_eq!(
            p.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>(),
            ["A1", "D4"]
        );
        assert_eq!(rep.rows_skipped, 4);
        assert_eq!(rep.skipped_examples[3].line, 6);
        let err = read(text, true).unwrap_err().to_string();
        assert!(err.contains(":3:") && err.contains("no SKU"), "{err}");
        let err = read(b"id,title_x\n1,2\n", false).unwrap_err().to_string();
        assert!(
            err.contains(":1:") && err.contains("no SKU column"),
            "{err}"
        );
        let err = read(b"", false).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }
}
