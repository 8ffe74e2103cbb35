//! The bench's own arithmetic: figures, verdicts, peak memory readings.

use super::report::*;
use super::store::*;
use super::*;

#[test]
fn percentiles_take_the_nearest_rank() {
    let samples: Vec<f64> = (1..=200).map(f64::from).collect();
    assert_eq!(percentile(&samples, 0.50), 100.0);
    assert_eq!(percentile(&samples, 0.95), 190.0);
    assert_eq!(percentile(&[7.0], 0.95), 7.0);
}

#[test]
fn numbers_are_grouped_by_thousands() {
    assert_eq!(group(0), "0");
    assert_eq!(group(1_000), "1,000");
    assert_eq!(group(2_000_000), "2,000,000");
}

#[test]
fn the_peak_memory_is_read_from_the_process_status() {
    let status = "Name:\tserver\nVmPeak:\t  900 kB\nVmHWM:\t   2048 kB\nVmRSS:\t 1024 kB\n";
    assert_eq!(peak_resident_bytes(status), Some(2048 * 1024));
    assert_eq!(peak_resident_bytes("Name:\tserver\n"), None);
    assert_eq!(mib(Some(3 << 20)), "3 MiB");
}

#[test]
fn the_generated_dataset_is_an_import_file() {
    let dir = std::env::temp_dir().join(format!("bench-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("tiny.csv");
    write_dataset(&path, 10, 50).expect("write");
    let bytes = std::fs::read(&path).expect("read");
    let rows = app::conversations::import::parse_csv(&bytes).expect("parses as an import");
    assert_eq!(rows.len(), 50);
    let unscored = rows
        .iter()
        .filter(|row| row.conversation.score_hundredths.is_none())
        .count();
    assert!(unscored < 50, "most conversations are scored");
    for row in &rows {
        let expected = if row.conversation.score_hundredths.is_some() {
            6
        } else {
            0
        };
        assert_eq!(
            row.conversation.criteria.len(),
            expected,
            "six criteria on each scored one"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
