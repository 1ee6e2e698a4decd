//! The HTTP/JSON mapping as the protos declare it (`google.api.http` on
//! each read method): the routes, read once from the compiled descriptors,
//! so that the server, Envoy's transcoder and any other tool read the same
//! mapping.

use std::sync::LazyLock;

use prost_reflect::{DynamicMessage, MethodDescriptor, Value};

use crate::descriptors::api_pool;

/// One segment of a path template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `*`: one segment of the variable being matched.
    Any,
}

/// A path template such as `/v1/{name=countries/*/relations/*}/history`:
/// literals, and at most one variable (a field path) over some of its
/// segments.
#[derive(Clone, Debug)]
pub struct Template {
    segments: Vec<Segment>,
    /// The variable's field path and the range of `segments` it covers.
    variable: Option<(String, std::ops::Range<usize>)>,
}

impl Template {
    /// Parses a template of the forms the protos use; `None` for others.
    pub fn parse(path: &str) -> Option<Self> {
        let path = path.strip_prefix('/')?;
        let mut segments = Vec::new();
        let mut variable = None;
        let mut rest = path;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}')?;
                let (field, pattern) = after[..end].split_once('=').unwrap_or((&after[..end], "*"));
                let start = segments.len();
                for part in pattern.split('/') {
                    segments.push(if part == "*" {
                        Segment::Any
                    } else {
                        Segment::Literal(part.to_owned())
                    });
                }
                if variable.is_some() {
                    return None;
                }
                variable = Some((field.to_owned(), start..segments.len()));
                rest = after[end + 1..]
                    .strip_prefix('/')
                    .unwrap_or(&after[end + 1..]);
            } else {
                let (part, next) = rest.split_once('/').unwrap_or((rest, ""));
                segments.push(Segment::Literal(part.to_owned()));
                rest = next;
            }
        }
        Some(Self { segments, variable })
    }

    /// Matches `path` (percent-decoded segments): the variable's field path
    /// and value, or `Some(None)` for a template without one.
    pub fn matches(&self, path: &str) -> Option<Option<(String, String)>> {
        let parts: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        for (segment, part) in self.segments.iter().zip(&parts) {
            match segment {
                Segment::Literal(literal) if literal != part => return None,
                Segment::Any if part.is_empty() => return None,
                _ => {}
            }
        }
        Some(
            self.variable
                .as_ref()
                .map(|(field, range)| (field.clone(), parts[range.clone()].join("/"))),
        )
    }
}

/// A read method and one of its GET templates.
#[derive(Clone, Debug)]
pub struct Route {
    pub method: MethodDescriptor,
    pub template: Template,
}

impl Route {
    /// The gRPC path of its method: `/diplomacy.v1.RelationService/GetRelation`.
    pub fn grpc_path(&self) -> String {
        format!(
            "/{}/{}",
            self.method.parent_service().full_name(),
            self.method.name()
        )
    }
}

/// The GET patterns of a `google.api.http` rule and its additional bindings.
fn get_patterns(rule: &DynamicMessage, into: &mut Vec<String>) {
    if let Some(Value::String(path)) = rule.get_field_by_name("get").map(|v| v.into_owned()) {
        if !path.is_empty() {
            into.push(path);
        }
    }
    if let Some(Value::List(more)) = rule
        .get_field_by_name("additional_bindings")
        .map(|v| v.into_owned())
    {
        for binding in more {
            if let Value::Message(binding) = binding {
                get_patterns(&binding, into);
            }
        }
    }
}

static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(|| {
    let pool = api_pool();
    let Some(http) = pool.get_extension_by_name("google.api.http") else {
        return Vec::new();
    };
    let mut routes = Vec::new();
    for service in pool.services() {
        for method in service.methods() {
            if method.is_client_streaming() || method.is_server_streaming() {
                continue;
            }
            let options = method.options();
            if !options.has_extension(&http) {
                continue;
            }
            let Value::Message(rule) = options.get_extension(&http).into_owned() else {
                continue;
            };
            let mut patterns = Vec::new();
            get_patterns(&rule, &mut patterns);
            for pattern in patterns {
                if let Some(template) = Template::parse(&pattern) {
                    routes.push(Route {
                        method: method.clone(),
                        template,
                    });
                }
            }
        }
    }
    routes
});

/// Every GET route the protos declare.
pub fn routes() -> &'static [Route] {
    &ROUTES
}

/// The route for a GET of `path`, and the variable it binds.
pub fn route_for(path: &str) -> Option<(&'static Route, Option<(String, String)>)> {
    routes()
        .iter()
        .find_map(|route| Some((route, route.template.matches(path)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_bind_their_variable_over_the_segments_it_covers() {
        let history =
            Template::parse("/v1/{parent=countries/*/relations/*}/history").expect("parses");
        assert_eq!(
            history.matches("/v1/countries/AM/relations/AZ/history"),
            Some(Some(("parent".into(), "countries/AM/relations/AZ".into())))
        );
        assert_eq!(history.matches("/v1/countries/AM/history"), None);
        assert_eq!(history.matches("/v1/countries//relations/AZ/history"), None);
        let search = Template::parse("/v1/countries:search").expect("parses");
        assert_eq!(search.matches("/v1/countries:search"), Some(None));
        assert_eq!(search.matches("/v1/countries"), None);
    }

    #[test]
    fn every_read_method_has_a_route_and_no_write_method_has_one() {
        let methods: Vec<String> = routes().iter().map(|r| r.grpc_path()).collect();
        for read in [
            "/diplomacy.v1.RelationService/GetRelation",
            "/diplomacy.v1.RelationService/ListHistory",
            "/diplomacy.v1.CountryService/SearchCountries",
            "/diplomacy.v1.TreatyService/GetTreaty",
            "/diplomacy.v1.ActorService/ListActors",
        ] {
            assert!(methods.iter().any(|m| m == read), "{read} in {methods:?}");
        }
        assert!(!methods
            .iter()
            .any(|m| m.contains("/Create") || m.contains("/Delete")));
        assert!(route_for("/v1/countries/TR/relations/AM").is_some());
        assert!(route_for("/v1/countries/TR/relations/AM/history").is_some());
    }
}
