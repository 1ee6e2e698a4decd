//! The columns of a list of one resource type, by field path, with more of
//! them under `-o wide`.

use comfy_table::{presets, ContentArrangement, Table};
use prost_reflect::DynamicMessage;

use super::values::at_path;

/// Columns: header and field path.
pub struct Columns {
    pub normal: &'static [(&'static str, &'static str)],
    pub wide: &'static [(&'static str, &'static str)],
}

pub const COUNTRIES: Columns = Columns {
    normal: &[
        ("NAME", "name"),
        ("COUNTRY", "display_name"),
        ("REGION", "region"),
        ("END", "end_date"),
    ],
    wide: &[
        ("ALPHA-3", "alpha3"),
        ("NUMERIC", "numeric_code"),
        ("SUBREGION", "subregion"),
        ("OFFICIAL NAME", "official_name"),
        ("SUCCESSORS", "successors"),
    ],
};

pub const TREATIES: Columns = Columns {
    normal: &[
        ("NAME", "name"),
        ("TITLE", "title"),
        ("KIND", "kind"),
        ("STATUS", "status"),
        ("SIGNED", "signed_date"),
        ("IN FORCE", "entry_into_force_date"),
    ],
    wide: &[
        ("ENDED", "termination_date"),
        ("PLACE", "place.city"),
        ("MEDIATORS", "mediators"),
    ],
};

pub const MEETINGS: Columns = Columns {
    normal: &[
        ("NAME", "name"),
        ("TITLE", "title"),
        ("KIND", "kind"),
        ("START", "start_date"),
        ("END", "end_date"),
    ],
    wide: &[
        ("HOST", "host_country"),
        ("PLACE", "place.city"),
        ("MEDIATORS", "mediators"),
        ("TOPICS", "topics"),
    ],
};

pub const EVENTS: Columns = Columns {
    normal: &[
        ("NAME", "name"),
        ("TITLE", "title"),
        ("KIND", "kind"),
        ("START", "start_date"),
        ("END", "end_date"),
    ],
    wide: &[
        ("ACTOR", "actor"),
        ("COUNTERPARTS", "counterparts"),
        ("RELATED", "related_records"),
    ],
};

pub const ACTORS: Columns = Columns {
    normal: &[
        ("NAME", "name"),
        ("DISPLAY NAME", "display_name"),
        ("KIND", "kind"),
    ],
    wide: &[("MEMBERS", "members"), ("UCDP ID", "ucdp_actor_id")],
};

pub const HISTORY: Columns = Columns {
    normal: &[
        ("DATE", "date"),
        ("KIND", "kind"),
        ("TITLE", "title"),
        ("RECORD", "record"),
    ],
    wide: &[
        ("COUNTRIES", "countries"),
        ("MEDIATORS", "mediators"),
        ("SUMMARY", "summary"),
    ],
};

pub const CHANGES: Columns = Columns {
    normal: &[("REVISION", "revision"), ("TYPE", "type"), ("NAME", "name")],
    wide: &[("COMMITTED", "commit_time")],
};

pub const MATCHES: Columns = Columns {
    normal: &[
        ("NAME", "country.name"),
        ("COUNTRY", "country.display_name"),
        ("SCORE", "score"),
        ("MATCHED", "matched"),
        ("KIND", "kind"),
    ],
    wide: &[
        ("OFFICIAL NAME", "country.official_name"),
        ("END", "country.end_date"),
    ],
};

pub const CODE_MATCHES: Columns = Columns {
    normal: &[
        ("NAME", "country.name"),
        ("COUNTRY", "country.display_name"),
        ("FROM", "start_date"),
        ("TO", "end_date"),
    ],
    wide: &[
        ("ISO 3166-3", "country.iso3166_3_code"),
        ("ALPHA-3", "country.alpha3"),
    ],
};

impl Columns {
    fn chosen(&self, wide: bool) -> Vec<(&'static str, &'static str)> {
        let extra: &[(&str, &str)] = if wide { self.wide } else { &[] };
        self.normal.iter().chain(extra).copied().collect()
    }

    /// A table of `messages`, with a header.
    pub fn table(&self, messages: &[DynamicMessage], wide: bool) -> String {
        let columns = self.chosen(wide);
        let mut table = Table::new();
        table
            .load_preset(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(columns.iter().map(|(header, _)| *header));
        for message in messages {
            table.add_row(columns.iter().map(|(_, path)| at_path(message, path)));
        }
        format!("{table}\n")
    }

    /// Rows of a stream, tab-separated (their width is not known ahead),
    /// after a header line when `header`.
    pub fn rows(&self, messages: &[DynamicMessage], wide: bool, header: bool) -> String {
        let columns = self.chosen(wide);
        let mut out = String::new();
        if header {
            out.push_str(
                &columns
                    .iter()
                    .map(|(h, _)| *h)
                    .collect::<Vec<_>>()
                    .join("\t"),
            );
            out.push('\n');
        }
        for message in messages {
            let cells: Vec<String> = columns
                .iter()
                .map(|(_, path)| at_path(message, path))
                .collect();
            out.push_str(&cells.join("\t"));
            out.push('\n');
        }
        out
    }
}
