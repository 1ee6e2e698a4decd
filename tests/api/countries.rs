//! Countries: the built-in list and the standard methods.

use diplomacy::pb::diplomacy::v1::*;
use prost_types::FieldMask;

use crate::helpers::{assert_bad_field, date, spawn_empty, spawn_seeded};
use crate::records::source;

#[tokio::test]
async fn every_iso_country_and_former_state_is_built_in() {
    let server = spawn_empty().await;
    let mut client = server.countries();
    let tr = client
        .get_country(GetCountryRequest {
            name: "countries/TR".into(),
        })
        .await
        .expect("TR")
        .into_inner();
    assert_eq!(tr.display_name, "Türkiye");
    assert_eq!(tr.alpha3, "TUR");
    assert_eq!(tr.numeric_code, 792);
    assert_eq!(tr.region, "Asia");
    assert_eq!(tr.subregion, "Western Asia");
    assert!(tr.end_date.is_none());
    assert!(!tr.sources.is_empty());

    let su = client
        .get_country(GetCountryRequest {
            name: "countries/SU".into(),
        })
        .await
        .expect("SU")
        .into_inner();
    assert_eq!(su.end_date, date(1992, 0, 0), "a year, as ISO records it");
    assert!(su.successors.contains(&"countries/AM".to_string()));
    let yu = client
        .get_country(GetCountryRequest {
            name: "countries/YU".into(),
        })
        .await
        .expect("YU")
        .into_inner();
    assert!(yu.end_date.is_some());

    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_countries(ListCountriesRequest {
                page_size: 100,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.countries.len() <= 100);
        names.extend(page.countries.into_iter().map(|c| c.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert!(names.len() >= 249 + 10, "{} countries", names.len());
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "code order, no repeats"
    );

    let current = client
        .list_countries(ListCountriesRequest {
            page_size: 1000,
            current_only: true,
            region: "Europe".into(),
            ..Default::default()
        })
        .await
        .expect("filtered")
        .into_inner();
    assert!(current
        .countries
        .iter()
        .all(|c| c.region == "Europe" && c.end_date.is_none()));
    assert!(current.countries.iter().any(|c| c.name == "countries/FR"));
}

#[tokio::test]
async fn the_seed_keeps_independence_dates() {
    let server = spawn_seeded().await;
    let am = server
        .countries()
        .get_country(GetCountryRequest {
            name: "countries/AM".into(),
        })
        .await
        .expect("AM")
        .into_inner();
    assert_eq!(am.start_date, date(1991, 9, 21));
    assert_eq!(am.alpha3, "ARM");
}

#[tokio::test]
async fn countries_can_be_created_updated_and_deleted_when_unused() {
    let server = spawn_seeded().await;
    let mut client = server.countries();
    let kosovo = Country {
        display_name: "Kosovo".into(),
        alpha3: "XKX".into(),
        region: "Europe".into(),
        start_date: date(2008, 2, 17),
        sources: vec![source()],
        ..Default::default()
    };
    let created = client
        .create_country(CreateCountryRequest {
            country: Some(kosovo.clone()),
            country_id: "XK".into(),
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(created.name, "countries/XK");
    let status = client
        .create_country(CreateCountryRequest {
            country: Some(kosovo.clone()),
            country_id: "XK".into(),
        })
        .await
        .expect_err("exists");
    assert_eq!(status.code(), tonic::Code::AlreadyExists);
    let status = client
        .create_country(CreateCountryRequest {
            country: Some(kosovo),
            country_id: "xk".into(),
        })
        .await
        .expect_err("bad id");
    assert_bad_field(&status, "country_id");

    let updated = client
        .update_country(UpdateCountryRequest {
            country: Some(Country {
                name: "countries/XK".into(),
                official_name: "Republic of Kosovo".into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["official_name".into()],
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.official_name, "Republic of Kosovo");
    assert_eq!(updated.display_name, "Kosovo");

    let status = client
        .delete_country(DeleteCountryRequest {
            name: "countries/AM".into(),
            ..Default::default()
        })
        .await
        .expect_err("in use");
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    client
        .get_country(GetCountryRequest {
            name: "countries/AM".into(),
        })
        .await
        .expect("still there");

    client
        .delete_country(DeleteCountryRequest {
            name: "countries/XK".into(),
            ..Default::default()
        })
        .await
        .expect("delete");
    let status = client
        .get_country(GetCountryRequest {
            name: "countries/XK".into(),
        })
        .await
        .expect_err("gone");
    assert_eq!(status.code(), tonic::Code::NotFound);
}
