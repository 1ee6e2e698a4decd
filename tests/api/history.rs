//! Timelines: order, precision, filters, paging and streaming.

use diplomacy::pb::diplomacy::v1::{
    HistoryEntry, HistoryEntryKind, ListHistoryRequest, StreamHistoryRequest,
};
use tokio_stream::StreamExt;

use crate::helpers::{assert_bad_field, date, spawn_seeded, TestServer};

async fn all_pages(server: &TestServer, mut request: ListHistoryRequest) -> Vec<HistoryEntry> {
    let mut client = server.relations();
    let mut entries = Vec::new();
    loop {
        let page = client
            .list_history(request.clone())
            .await
            .unwrap_or_else(|s| panic!("ListHistory: {s:?}"))
            .into_inner();
        assert!(page.entries.len() <= request.page_size.max(50) as usize);
        entries.extend(page.entries);
        if page.next_page_token.is_empty() {
            return entries;
        }
        request.page_token = page.next_page_token;
    }
}

fn records(entries: &[HistoryEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.record.as_str()).collect()
}

fn position(entries: &[HistoryEntry], record: &str) -> usize {
    entries
        .iter()
        .position(|e| e.record == record)
        .unwrap_or_else(|| panic!("{record} missing from {:?}", records(entries)))
}

#[tokio::test]
async fn armenia_azerbaijan_history_is_in_date_order() {
    let server = spawn_seeded().await;
    let entries = all_pages(
        &server,
        ListHistoryRequest {
            parent: "countries/AM/relations/AZ".into(),
            ..Default::default()
        },
    )
    .await;
    let expected = [
        "events/c01",   // first war, 1988-02
        "treaties/t01", // Bishkek Protocol, 1994-05-05
        "events/c02",   // 2020 war
        "treaties/t03", // trilateral statement
        "events/c03",   // 2023 offensive
        "treaties/t05", // border agreement
        "events/e01",   // four villages
        "meetings/m01", // Washington 2024
        "meetings/m04", // Washington 2025
    ];
    let positions: Vec<usize> = expected.iter().map(|r| position(&entries, r)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "out of order: {:?}",
        records(&entries)
    );
    let keys: Vec<_> = entries
        .iter()
        .map(|e| {
            let d = e.date.expect("dated");
            (d.year, d.month.max(1), d.day.max(1))
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "dates sorted by first possible day"
    );
    // Entries report their dates exactly as recorded.
    assert_eq!(
        entries[position(&entries, "events/c01")].date,
        date(1988, 2, 0)
    );
    assert_eq!(
        entries[position(&entries, "events/f07")].date,
        date(1991, 0, 0)
    );
    let ceasefire_signed = entries
        .iter()
        .find(|e| e.record == "treaties/t06" && e.kind() == HistoryEntryKind::TreatySigned)
        .expect("t06 signed");
    assert_eq!(ceasefire_signed.date, date(1994, 5, 0));
    // A month sorts as its first day: 1994-05 comes before 1994-05-05.
    assert!(position(&entries, "treaties/t06") < position(&entries, "treaties/t01"));
    // Who mediated is part of each entry.
    let m01 = &entries[position(&entries, "meetings/m01")];
    assert_eq!(m01.mediators, ["countries/US"]);
    assert!(!m01.sources.is_empty(), "every fact carries its sources");
}

#[tokio::test]
async fn the_trilateral_statement_is_signed_before_it_is_in_force_on_the_same_day() {
    let server = spawn_seeded().await;
    let entries = all_pages(
        &server,
        ListHistoryRequest {
            // Russia's own timeline: it signed as guarantor, not as a party.
            parent: "countries/RU".into(),
            start_date: date(2020, 11, 10),
            end_date: date(2020, 11, 10),
            ..Default::default()
        },
    )
    .await;
    let kinds: Vec<_> = entries
        .iter()
        .map(|e| (e.record.as_str(), e.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("treaties/t03", HistoryEntryKind::TreatySigned),
            ("treaties/t03", HistoryEntryKind::TreatyInForce)
        ]
    );
}

#[tokio::test]
async fn pages_of_one_cover_the_same_timeline() {
    let server = spawn_seeded().await;
    let request = ListHistoryRequest {
        parent: "countries/AM/relations/AZ".into(),
        ..Default::default()
    };
    let whole = all_pages(&server, request.clone()).await;
    let paged = all_pages(
        &server,
        ListHistoryRequest {
            page_size: 1,
            ..request
        },
    )
    .await;
    assert_eq!(whole, paged);
    assert!(whole.len() > 20);
}

#[tokio::test]
async fn filters_by_date_range_and_kind() {
    let server = spawn_seeded().await;
    let meetings = all_pages(
        &server,
        ListHistoryRequest {
            parent: "countries/AZ".into(),
            kinds: vec![HistoryEntryKind::Meeting as i32],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        records(&meetings),
        [
            "meetings/m05",
            "meetings/m01",
            "meetings/m02",
            "meetings/m03",
            "meetings/m04"
        ]
    );

    let year_2024 = all_pages(
        &server,
        ListHistoryRequest {
            parent: "countries/AM/relations/AZ".into(),
            start_date: date(2024, 0, 0),
            end_date: date(2024, 0, 0),
            ..Default::default()
        },
    )
    .await;
    assert!(year_2024
        .iter()
        .all(|e| e.date.expect("dated").year == 2024));
    assert_eq!(
        records(&year_2024),
        [
            "treaties/t05", // initialled 2024-04-19
            "events/e02",
            "meetings/m05", // Almaty, 2024-05-10
            "treaties/t05", // signed 2024-05-15
            "treaties/t05", // in force the same day
            "events/e01",
            "meetings/m01" // July 2024, at month precision
        ]
    );
}

#[tokio::test]
async fn a_country_timeline_includes_what_it_mediated() {
    let server = spawn_seeded().await;
    let entries = all_pages(
        &server,
        ListHistoryRequest {
            parent: "countries/RU".into(),
            ..Default::default()
        },
    )
    .await;
    for record in [
        "treaties/t01",
        "events/f05",
        "events/c04",
        "meetings/m02",
        "treaties/t03",
    ] {
        position(&entries, record);
    }
}

#[tokio::test]
async fn stream_history_sends_the_whole_timeline() {
    let server = spawn_seeded().await;
    let listed = all_pages(
        &server,
        ListHistoryRequest {
            parent: "countries/AM/relations/AZ".into(),
            ..Default::default()
        },
    )
    .await;
    let mut stream = server
        .relations()
        .stream_history(StreamHistoryRequest {
            parent: "countries/AZ/relations/AM".into(),
            ..Default::default()
        })
        .await
        .expect("StreamHistory")
        .into_inner();
    let mut streamed = Vec::new();
    while let Some(entry) = stream.next().await {
        streamed.push(entry.expect("entry"));
    }
    assert_eq!(streamed, listed);
}

#[tokio::test]
async fn bad_history_queries_name_the_field() {
    let server = spawn_seeded().await;
    let mut client = server.relations();
    let cases = [
        (
            ListHistoryRequest {
                parent: "countries/AM/relations/AM".into(),
                ..Default::default()
            },
            "parent",
        ),
        (
            ListHistoryRequest {
                parent: "countries/XX".into(),
                ..Default::default()
            },
            "parent",
        ),
        (
            ListHistoryRequest {
                parent: "nations/AM".into(),
                ..Default::default()
            },
            "parent",
        ),
        (
            ListHistoryRequest {
                parent: "countries/AM".into(),
                start_date: date(2024, 2, 30),
                ..Default::default()
            },
            "start_date",
        ),
        (
            ListHistoryRequest {
                parent: "countries/AM".into(),
                start_date: date(2024, 1, 1),
                end_date: date(2023, 1, 1),
                ..Default::default()
            },
            "end_date",
        ),
        (
            ListHistoryRequest {
                parent: "countries/AM".into(),
                kinds: vec![99],
                ..Default::default()
            },
            "kinds[0]",
        ),
        (
            ListHistoryRequest {
                parent: "countries/AM".into(),
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
        (
            ListHistoryRequest {
                parent: "countries/AM".into(),
                page_size: 1001,
                ..Default::default()
            },
            "page_size",
        ),
        (
            ListHistoryRequest {
                parent: "countries/AM".into(),
                page_token: "bm90LWEtdG9rZW4".into(),
                ..Default::default()
            },
            "page_token",
        ),
    ];
    for (request, field) in cases {
        let status = client
            .list_history(request.clone())
            .await
            .expect_err(&format!("{request:?}"));
        assert_bad_field(&status, field);
    }
    let status = client
        .stream_history(StreamHistoryRequest {
            parent: "countries/AM/relations/ZZ".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown country");
    assert_bad_field(&status, "parent");
}
