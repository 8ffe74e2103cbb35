//! The query type's rules: parsing, validation and addresses.

use super::*;

#[test]
fn a_link_to_a_customer_searches_for_it_and_opens_its_row() {
    assert_eq!(
        CustomerQuery::customer_link("ACME & Co"),
        "/customers?q=ACME%20%26%20Co&open=ACME%20%26%20Co"
    );
    let query = CustomerQuery::from_query_string("q=acme&sort=score&open=ACME-1&hpage=3");
    let focus = RowFocus::from_pairs(parse_query_string("q=acme&open=ACME-1&hpage=3"));
    assert_eq!(focus.open.as_deref(), Some("ACME-1"));
    assert_eq!(focus.hpage, 3);
    assert_eq!(
        RowFocus::href(&query, "ACME-1", 3),
        "/customers?q=acme&sort=score&open=ACME-1&hpage=3"
    );
    assert_eq!(
        RowFocus::href(&CustomerQuery::default(), "A", 1),
        "/customers?open=A"
    );
    let bad = RowFocus::from_pairs(parse_query_string("open=%20%00&hpage=zero"));
    assert_eq!(bad, RowFocus::default());
}

#[test]
fn the_default_view_sorts_by_interactions_descending_on_page_one() {
    let query = CustomerQuery::from_query_string("");
    assert_eq!(query.sort, SortKey::Interactions);
    assert_eq!(query.dir, SortDir::Desc);
    assert_eq!(query.page, 1);
    assert_eq!(query.href(), "/customers");
}

#[test]
fn invalid_values_fall_back_to_defaults() {
    let query = CustomerQuery::from_query_string(
        "sort=colour&dir=up&page=0&f.Bad-Key=x&f.region=%20%20&q=%20",
    );
    assert_eq!(query, CustomerQuery::default());
    assert_eq!(CustomerQuery::from_query_string("page=-3").page, 1);
    assert_eq!(CustomerQuery::from_query_string("page=99999999999").page, 1);
    assert_eq!(
        CustomerQuery::from_query_string("page=5000000").page,
        MAX_PAGE
    );
}

#[test]
fn a_view_round_trips_through_its_url() {
    let mut query = CustomerQuery {
        search: "zoë 100%_\\".to_owned(),
        sort: SortKey::Score,
        dir: SortDir::Asc,
        page: 3,
        filters: BTreeMap::new(),
        period: Period::Range {
            from: Day::parse("2026-02-01"),
            to: None,
        },
        channels: vec![Channel::Voice, Channel::Email],
        rep: "sam@acme.example".to_owned(),
    };
    query
        .filters
        .insert("region".to_owned(), "EMEA & APAC".to_owned());
    let href = query.href();
    let (_, query_string) = href
        .split_once('?')
        .expect("a non-default view has a query string");
    assert_eq!(CustomerQuery::from_query_string(query_string), query);
}

#[test]
fn search_is_trimmed_and_capped() {
    let long = "x".repeat(MAX_SEARCH_CHARS + 50);
    assert_eq!(
        CustomerQuery::from_pairs([("q", long.as_str())])
            .search
            .len(),
        MAX_SEARCH_CHARS
    );
    assert_eq!(
        CustomerQuery::default().with_search("  ann  ").search,
        "ann"
    );
}

#[test]
fn clicking_headers_sorts_descending_then_flips_and_resets_the_page() {
    let query = CustomerQuery::default().with_page(4);
    let by_score = query.with_sort_clicked(SortKey::Score);
    assert_eq!(
        (by_score.sort, by_score.dir, by_score.page),
        (SortKey::Score, SortDir::Desc, 1)
    );
    let flipped = by_score.with_page(2).with_sort_clicked(SortKey::Score);
    assert_eq!(
        (flipped.sort, flipped.dir, flipped.page),
        (SortKey::Score, SortDir::Asc, 1)
    );
    let back = flipped.with_sort_clicked(SortKey::Score);
    assert_eq!(back.dir, SortDir::Desc);
    let other = flipped.with_sort_clicked(SortKey::Latest);
    assert_eq!((other.sort, other.dir), (SortKey::Latest, SortDir::Desc));
}

#[test]
fn filters_are_set_and_cleared_and_reset_the_page() {
    let query = CustomerQuery::default()
        .with_page(3)
        .with_filter("region", "EMEA");
    assert_eq!(
        query.filters.get("region").map(String::as_str),
        Some("EMEA")
    );
    assert_eq!(query.page, 1);
    let cleared = query.with_filter("region", "  ");
    assert!(cleared.filters.is_empty());
    assert!(CustomerQuery::default()
        .with_filter("No Such", "x")
        .filters
        .is_empty());
}

#[test]
fn wire_validation_refuses_what_urls_would_repair() {
    let mut query = CustomerQuery {
        search: "x".repeat(MAX_SEARCH_CHARS + 1),
        ..CustomerQuery::default()
    };
    assert!(query.validate().is_err());
    query.search.clear();
    assert!(query.validate().is_ok());
    query.page = 0;
    assert!(query.validate().is_err());
    query.page = 1;
    query
        .filters
        .insert("DROP TABLE".to_owned(), "x".to_owned());
    assert!(query.validate().is_err());
}

#[test]
fn api_parameters_are_read_strictly() {
    let query = CustomerQuery::from_pairs_strict(
        [
            ("q", "zo"),
            ("sort", "score"),
            ("f.queue", "Billing"),
            ("per_page", "50"),
        ],
        &["per_page"],
    )
    .expect("valid");
    assert_eq!((query.search.as_str(), query.sort), ("zo", SortKey::Score));
    assert_eq!(
        query.filters.get("queue").map(String::as_str),
        Some("Billing")
    );
    for (key, value) in [
        ("sort", "size"),
        ("dir", "up"),
        ("page", "0"),
        ("page", "x"),
        ("colour", "red"),
        ("f.BAD", "1"),
    ] {
        assert!(
            CustomerQuery::from_pairs_strict([(key, value)], &[]).is_err(),
            "{key}={value}"
        );
    }
    assert!(CustomerQuery::from_pairs_strict([("q", "x".repeat(201))], &[]).is_err());
}

#[test]
fn days_are_real_calendar_days() {
    assert_eq!(
        Day::parse("2024-02-29"),
        Some(Day {
            year: 2024,
            month: 2,
            day: 29
        })
    );
    for bad in [
        "2023-02-29",
        "2026-13-01",
        "2026-04-31",
        "2026-4-1",
        "26-04-01",
        "2026-04-01x",
        "",
        "0999-01-01",
        "+026-01-01",
    ] {
        assert_eq!(Day::parse(bad), None, "{bad}");
    }
    assert_eq!(
        Day::parse("2026-03-07").map(|d| d.to_string()).as_deref(),
        Some("2026-03-07")
    );
}

#[test]
fn periods_channels_and_representatives_are_read_from_the_url() {
    let query = CustomerQuery::from_query_string(
        "period=30d&type=chat,VOICE,chat&rep=%20Sam@Acme.example%20",
    );
    assert_eq!(query.period, Period::Last30Days);
    assert_eq!(query.channels, vec![Channel::Voice, Channel::Chat]);
    assert_eq!(query.rep, "sam@acme.example");
    assert!(query.has_conditions());
    assert_eq!(
        query.to_query_string(),
        "period=30d&type=voice%2Cchat&rep=sam%40acme.example"
    );
    let range = CustomerQuery::from_query_string("to=2026-03-31");
    assert_eq!(
        range.period,
        Period::Range {
            from: None,
            to: Day::parse("2026-03-31")
        }
    );
    for preset in Period::PRESETS {
        let query = CustomerQuery::default().with_period(preset);
        assert_eq!(
            CustomerQuery::from_query_string(&query.to_query_string()).period,
            preset
        );
    }
}

#[test]
fn a_bad_date_range_falls_back_to_all_time_and_says_so() {
    for bad in [
        "from=2026-05-01&to=2026-04-01",
        "from=2026-02-30",
        "to=yesterday",
        "period=fortnight",
    ] {
        let (query, notes) = CustomerQuery::from_pairs_noting(parse_query_string(bad));
        assert_eq!(query.period, Period::All, "{bad}");
        assert_eq!(notes.len(), 1, "{bad}: {notes:?}");
        assert!(notes[0].contains("All time"), "{bad}: {notes:?}");
    }
    let (_, notes) =
        CustomerQuery::from_pairs_noting(parse_query_string("from=2026-04-01&to=2026-04-01"));
    assert!(notes.is_empty());
    let reversed = CustomerQuery::default().with_period(Period::Range {
        from: Day::parse("2026-05-01"),
        to: Day::parse("2026-04-01"),
    });
    assert_eq!(reversed.period, Period::All);
    let wire = CustomerQuery {
        period: Period::Range {
            from: Day::parse("2026-05-01"),
            to: Day::parse("2026-04-01"),
        },
        ..CustomerQuery::default()
    };
    assert!(wire.validate().is_err());
}

#[test]
fn the_api_refuses_bad_periods_channels_and_representatives() {
    for (key, value) in [
        ("period", "fortnight"),
        ("period", "custom"),
        ("from", "2026-02-30"),
        ("to", "31/03/2026"),
        ("type", "fax"),
        ("type", ","),
        ("rep", " "),
    ] {
        assert!(
            CustomerQuery::from_pairs_strict([(key, value)], &[]).is_err(),
            "{key}={value}"
        );
    }
    assert!(
        CustomerQuery::from_pairs_strict([("from", "2026-05-01"), ("to", "2026-04-01")], &[])
            .is_err()
    );
    let query = CustomerQuery::from_pairs_strict(
        [("from", "2026-04-01"), ("type", "email"), ("rep", "a@b.c")],
        &[],
    )
    .expect("valid");
    assert_eq!(
        query.period,
        Period::Range {
            from: Day::parse("2026-04-01"),
            to: None
        }
    );
    assert_eq!(query.channels, vec![Channel::Email]);
}

#[test]
fn a_custom_range_wins_over_a_period_on_the_page_and_in_the_api() {
    let range = Period::Range {
        from: Day::parse("2026-04-01"),
        to: Day::parse("2026-04-30"),
    };
    for pairs in [
        "period=7d&from=2026-04-01&to=2026-04-30",
        "from=2026-04-01&period=year&to=2026-04-30",
        "period=custom&from=2026-04-01&to=2026-04-30",
    ] {
        let (query, notes) = CustomerQuery::from_pairs_noting(parse_query_string(pairs));
        assert_eq!((query.period, notes.len()), (range, 0), "{pairs}");
        let strict = CustomerQuery::from_pairs_strict(
            parse_query_string(pairs)
                .into_iter()
                .filter(|(k, v)| !(k == "period" && v == "custom")),
            &[],
        )
        .unwrap_or_else(|e| panic!("{pairs}: {e}"));
        assert_eq!(strict.period, range, "{pairs}");
    }
    // One end is a range too; empty dates (the plain form's) are not given.
    let open = CustomerQuery::from_query_string("period=30d&to=2026-04-30");
    assert_eq!(
        open.period,
        Period::Range {
            from: None,
            to: Day::parse("2026-04-30")
        }
    );
    assert_eq!(
        CustomerQuery::from_query_string("period=30d&from=&to=").period,
        Period::Last30Days
    );
    // A range that cannot be read is not replaced by the period: the page says so and
    // shows All time, the API refuses it.
    let (query, notes) =
        CustomerQuery::from_pairs_noting(parse_query_string("period=7d&from=2026-02-30"));
    assert_eq!((query.period, notes.len()), (Period::All, 1));
    assert!(CustomerQuery::from_pairs_strict(
        [
            ("period", "7d"),
            ("from", "2026-05-01"),
            ("to", "2026-04-01")
        ],
        &[]
    )
    .is_err());
    assert!(CustomerQuery::from_pairs_strict(
        [("period", "fortnight"), ("from", "2026-04-01")],
        &[]
    )
    .is_err());
}

#[test]
fn channels_toggle_and_reset_the_page() {
    let query = CustomerQuery::default()
        .with_page(3)
        .with_channel(Channel::Email, true);
    assert_eq!(
        (query.channels.clone(), query.page),
        (vec![Channel::Email], 1)
    );
    let both = query.with_channel(Channel::Voice, true);
    assert_eq!(both.channels, vec![Channel::Voice, Channel::Email]);
    assert!(both
        .with_channel(Channel::Voice, false)
        .with_channel(Channel::Email, false)
        .channels
        .is_empty());
}

#[test]
fn a_view_sorted_by_change_round_trips_through_its_url() {
    let query = CustomerQuery::from_query_string("period=30d&sort=change&dir=asc");
    assert_eq!(
        (query.sort, query.dir, query.period),
        (SortKey::Change, SortDir::Asc, Period::Last30Days)
    );
    assert_eq!(query.href(), "/customers?sort=change&dir=asc&period=30d");
    assert_eq!(
        CustomerQuery::from_query_string(&query.to_query_string()),
        query
    );
    // A header click: the biggest drop first (desc), then flipped.
    let clicked = CustomerQuery::from_query_string("from=2026-01-01&to=2026-01-31")
        .with_sort_clicked(SortKey::Change);
    assert_eq!(
        (clicked.sort, clicked.dir),
        (SortKey::Change, SortDir::Desc)
    );
    assert_eq!(
        clicked.href(),
        "/customers?sort=change&from=2026-01-01&to=2026-01-31"
    );
    assert!(clicked.validate().is_ok());
}

#[test]
fn change_without_a_previous_period_falls_back_on_the_page_and_stands_in_the_api() {
    for url in [
        "sort=change",
        "sort=change&dir=asc&period=all",
        "sort=change&from=2026-01-01",
    ] {
        let (query, notes) = CustomerQuery::from_pairs_noting(parse_query_string(url));
        assert_eq!(
            (query.sort, query.dir),
            (SortKey::Interactions, SortDir::Desc),
            "{url}"
        );
        assert_eq!(notes.len(), 1, "{url}");
        // The API keeps it: every customer is new then, listed by identifier.
        let strict = CustomerQuery::from_pairs_strict(parse_query_string(url), &[]);
        assert_eq!(strict.map(|query| query.sort), Ok(SortKey::Change), "{url}");
    }
    // Choosing All time leaves the change sort behind.
    let by_change = CustomerQuery::from_query_string("period=month&sort=change&dir=asc");
    let all = by_change.with_period(Period::All);
    assert_eq!((all.sort, all.dir), (SortKey::Interactions, SortDir::Desc));
    let other = by_change.with_period(Period::Last7Days);
    assert_eq!((other.sort, other.dir), (SortKey::Change, SortDir::Asc));
    assert!(CustomerQuery::from_pairs_strict(
        parse_query_string("sort=change&period=quarter"),
        &[]
    )
    .is_ok());
}
