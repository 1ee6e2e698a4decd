//! `diplomacy lookup SCHEME CODE [--date D]`: the countries that carry a
//! code of one scheme (ISO, UN M49, Correlates of War), and when.

use clap::Args;
use diplomacy::pb::diplomacy::v1 as pb;
use diplomacy::pb::diplomacy::v1::country_service_client::CountryServiceClient;

use super::{dates, dynamic, enum_number};
use crate::cli::client::ClientArgs;
use crate::cli::exit::Failure;
use crate::cli::render::{columns, Printer};

#[derive(Args)]
pub struct LookupArgs {
    /// The scheme: iso-alpha2, iso-alpha3, iso-numeric, iso-3166-3, un-m49,
    /// cow-code or cow-abbreviation.
    scheme: String,
    /// The code, e.g. `365` (cow-code), `RUS`, `SUHH`.
    code: String,
    /// Only the country that carries it on this day (YYYY, YYYY-MM or
    /// YYYY-MM-DD); without it, every country that ever did.
    #[arg(long)]
    date: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

pub async fn lookup(args: LookupArgs) -> Result<(), Failure> {
    let scheme = enum_number("diplomacy.v1.CountryCodeScheme", "scheme", &args.scheme)?;
    let date = args
        .date
        .as_deref()
        .map(|d| dates::parse("--date", d))
        .transpose()?;
    let channel = args.client.connect().await?;
    let matches = CountryServiceClient::new(channel)
        .lookup_country(pb::LookupCountryRequest {
            scheme,
            code: args.code,
            date,
        })
        .await
        .map_err(Failure::from_status)?
        .into_inner()
        .matches;
    let rows = matches.iter().map(dynamic).collect::<Result<Vec<_>, _>>()?;
    Printer::new(args.client.format()).many(&rows, &columns::CODE_MATCHES)
}
