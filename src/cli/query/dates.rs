//! Dates as people type them: `2009`, `2009-10`, `2009-10-10`.

use diplomacy::pb::google::r#type::Date;

use crate::cli::exit::{Exit, Failure};

/// `text` as a `google.type.Date` at the precision given; whether the day
/// exists is the server's to say (INVALID_ARGUMENT, with the field).
pub fn parse(flag: &str, text: &str) -> Result<Date, Failure> {
    let bad = || {
        Failure::new(
            Exit::InvalidArgument,
            format!("{flag} {text:?}: expected YYYY, YYYY-MM or YYYY-MM-DD"),
        )
    };
    let parts: Vec<&str> = text.trim().split('-').collect();
    let number = |i: usize, digits: usize| -> Result<i32, Failure> {
        match parts.get(i) {
            None => Ok(0),
            Some(p) if p.len() == digits && p.chars().all(|c| c.is_ascii_digit()) => {
                p.parse().map_err(|_| bad())
            }
            Some(_) => Err(bad()),
        }
    };
    if parts.len() > 3 {
        return Err(bad());
    }
    Ok(Date {
        year: number(0, 4)?,
        month: number(1, 2)?,
        day: number(2, 2)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_keeps_the_precision_it_was_typed_at() {
        let date = |y, m, d| Date {
            year: y,
            month: m,
            day: d,
        };
        assert_eq!(parse("--as-of", "2009").expect("year"), date(2009, 0, 0));
        assert_eq!(
            parse("--as-of", "2009-10").expect("month"),
            date(2009, 10, 0)
        );
        assert_eq!(
            parse("--as-of", "2009-10-10").expect("day"),
            date(2009, 10, 10)
        );
        // The server judges whether the day exists.
        assert_eq!(
            parse("--as-of", "2024-02-30").expect("shape"),
            date(2024, 2, 30)
        );
        for bad in [
            "",
            "09",
            "2009-1",
            "2009/10/10",
            "2009-10-10-1",
            "yesterday",
        ] {
            let failure = parse("--as-of", bad).expect_err(bad);
            assert_eq!(failure.exit, Exit::InvalidArgument);
            assert!(
                failure.message.starts_with("--as-of"),
                "{}",
                failure.message
            );
        }
    }
}
