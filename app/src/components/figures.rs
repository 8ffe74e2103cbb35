//! Numbers as the pages show them.

/// "1–30 of 1,234": the range shown and the total.
pub fn range_label(page: u32, page_size: u32, shown: usize, total: i64) -> String {
    if total <= 0 || shown == 0 {
        return format!("0 of {}", group_thousands(total.max(0)));
    }
    let first = crate::page::offset_of(page, page_size) + 1;
    let last = first + shown as i64 - 1;
    format!(
        "{}–{} of {}",
        group_thousands(first),
        group_thousands(last),
        group_thousands(total)
    )
}

/// 1234567 → "1,234,567"
pub fn group_thousands(value: i64) -> String {
    let digits = value.abs().to_string();
    let mut out = String::new();
    for (index, ch) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if value < 0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_like_the_specification() {
        assert_eq!(range_label(1, 8, 8, 23), "1–8 of 23");
        assert_eq!(range_label(3, 8, 7, 23), "17–23 of 23");
        assert_eq!(range_label(2, 30, 30, 1234), "31–60 of 1,234");
        assert_eq!(range_label(1, 30, 0, 0), "0 of 0");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1234567), "1,234,567");
    }
}
