//! The holiday calendars a server counts business days with: the bundled tables, or an
//! operator's newer ones (`--calendars DIR` holding `hk.txt` and/or `mainland.txt`), and how long
//! they still cover.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use softland_workflow::{BUNDLED_HK, BUNDLED_MAINLAND, Calendars, Region};

/// Operators are told this many days before a table's coverage ends.
pub(crate) const WARN_DAYS: i64 = 120;

/// The largest table file read.
const MAX_TABLE: u64 = 1 << 20;

fn read_table(dir: &Path, name: &str, bundled: &'static str) -> anyhow::Result<(String, String)> {
    let path = dir.join(name);
    if !path.exists() {
        return Ok((format!("bundled {name}"), bundled.to_owned()));
    }
    let mut text = String::new();
    std::fs::File::open(&path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .take(MAX_TABLE + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if text.len() as u64 > MAX_TABLE {
        bail!("{} is larger than {} KiB", path.display(), MAX_TABLE / 1024);
    }
    Ok((path.display().to_string(), text))
}

/// The calendars: `dir`'s tables where it has them, the bundled ones otherwise.
pub(crate) fn load(dir: Option<&PathBuf>) -> anyhow::Result<Calendars> {
    let Some(dir) = dir else {
        return Ok(Calendars::builtin());
    };
    if !dir.is_dir() {
        bail!("the calendars folder {} does not exist", dir.display());
    }
    let (hk_name, hk) = read_table(dir, "hk.txt", BUNDLED_HK)?;
    let (mainland_name, mainland) = read_table(dir, "mainland.txt", BUNDLED_MAINLAND)?;
    Calendars::from_texts(&hk, &mainland).map_err(|e| {
        let file = if e.table == "hk" {
            hk_name
        } else {
            mainland_name
        };
        anyhow::anyhow!("{file}: line {}: {}", e.line, e.message)
    })
}

/// One region's coverage: its name, the last covered day, and the days left from `today`.
pub(crate) fn coverage(cal: &Calendars, today: NaiveDate) -> Vec<(&'static str, NaiveDate, i64)> {
    [("hk", Region::HongKong), ("mainland", Region::Mainland)]
        .into_iter()
        .filter_map(|(name, region)| {
            let until = cal.covered_until(region)?;
            Some((name, until, (until - today).num_days()))
        })
        .collect()
}

/// Sentences for operators about tables that end within [`WARN_DAYS`] (or have ended).
pub(crate) fn warnings(cal: &Calendars) -> Vec<String> {
    coverage(cal, Utc::now().date_naive())
        .into_iter()
        .filter(|(_, _, left)| *left < WARN_DAYS)
        .map(|(name, until, left)| {
            let when = if left < 0 {
                format!("ended {} days ago", -left)
            } else {
                format!("ends in {left} days")
            };
            format!(
                "the {name} holiday table covers days up to {until} ({when}): business-day due dates after it are estimates; add the next year's table (softland serve --calendars DIR, see docs/calendars.md)"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operators_table_replaces_the_bundled_one_and_is_checked() {
        let dir = std::env::temp_dir().join(format!("softland-cal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        std::fs::write(
            dir.join("mainland.txt"),
            "covers 2026-01-01 2030-12-31\n2030-10-01 holiday National Day\n",
        )
        .unwrap_or_default();
        let cal = load(Some(&dir)).expect("valid tables");
        assert_eq!(
            cal.covered_until(Region::Mainland),
            NaiveDate::from_ymd_opt(2030, 12, 31)
        );
        assert_eq!(
            cal.covered_until(Region::HongKong),
            Calendars::builtin().covered_until(Region::HongKong),
            "the bundled Hong Kong table stays"
        );
        std::fs::write(
            dir.join("hk.txt"),
            "covers 2026-01-01 2026-12-31\n2026-02-30 holiday x\n",
        )
        .unwrap_or_default();
        let e = load(Some(&dir)).expect_err("a bad date").to_string();
        assert!(e.contains("hk.txt: line 2"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn coverage_counts_days_left() {
        let cal = Calendars::builtin();
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default();
        let c = coverage(&cal, day);
        assert!(
            c.iter().any(|(n, _, left)| *n == "mainland" && *left == 33),
            "{c:?}"
        );
    }
}
