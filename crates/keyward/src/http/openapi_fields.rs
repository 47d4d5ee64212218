//! Schemas of the strings the API parses, each saying exactly what the domain's parser
//! takes (`keyward_core::patterns`): wire types name them with `#[schema(value_type = …)]`,
//! and they appear once in the document's components. The scope schemas depend on this
//! server's catalog, so [`scopes_of`] rewrites them when the router is built.

use keyward_core::patterns;
use keyward_core::scope::Catalog;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// A string schema with a pattern and a description.
fn string(pattern: impl Into<String>, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
}

/// Declares a component schema: a marker type that only the document uses.
macro_rules! component {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

component!(
    /// A display name: a key's, a workspace's, a user's, or a revocation's reason.
    Name => string(
        patterns::name(),
        "A name: 1–100 characters after trimming, none of them a control character.",
    )
    .min_length(Some(1))
);

component!(
    /// Sign-up's `workspace_name`: a name, or blank for the default.
    NameOrBlank => string(
        patterns::name_or_blank(),
        "A name (1–100 characters after trimming, no control characters), or blank for the \
         default.",
    )
);

component!(
    /// An email address, as `keyward_core::validate::email` reads it.
    Email => string(
        patterns::email(),
        "An email address as mail servers take it unquoted: words of ASCII letters, digits and \
         `` !#$%&'*+/=?^_`{|}~- `` joined by single dots (at most 64 bytes), `@`, and a domain of \
         two or more labels of letters, digits and inner hyphens (1–63 each). Whitespace \
         around it is trimmed; at most 254 bytes in all.",
    )
    .min_length(Some(5))
);

component!(
    /// A password, at sign-up.
    Password => ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Password,
        )))
        .description(Some("At least 12 characters, at most 1024 bytes."))
        .min_length(Some(keyward_core::validate::MIN_PASSWORD_CHARS))
        .max_length(Some(1024))
);

component!(
    /// A workspace's key prefix.
    WorkspaceKeyPrefix => string(
        patterns::WORKSPACE_KEY_PREFIX,
        "`^[a-z][a-z0-9]{0,15}_([a-z0-9]{1,8}_)?$`, e.g. `kw_` or `sk_live_`, except the \
         service tokens' own `kwsvc_`.",
    )
    .max_length(Some(26))
);

component!(
    /// A scope a key may hold; [`scopes_of`] narrows it to this server's catalog.
    Scope => scope(None)
);

component!(
    /// A product scope, for memberships; [`scopes_of`] narrows it to this server's catalog.
    ProductScope => scope(None)
);

/// `Scope` or `ProductScope` over `pattern`, or over the bare scope syntax without one.
fn scope(pattern: Option<String>) -> ObjectBuilder {
    string(
        pattern.unwrap_or_else(|| r"^(?:\*|[a-z0-9_-]+(?::[A-Za-z0-9_.-]+)*)$".to_owned()),
        "A scope of `GET /api/v1/scopes` (for a key, also `*`, full access), a family prefix \
         of one (`apps` for `apps:deploy`), or one followed by more parts \
         (`apps:deploy:app-42`).",
    )
    .max_length(Some(patterns::MAX_SCOPE_CHARS))
}

/// The query's cursor: opaque, from a `Link` header.
pub fn cursor() -> utoipa::openapi::schema::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(patterns::CURSOR))
        .build()
}

/// `Scope` and `ProductScope` for `catalog`: the patterns that admit exactly its scopes.
/// A catalog without product scopes admits no membership scope, which the `ProductScope`
/// schema then says by being unsatisfiable.
pub fn scopes_of(doc: &mut utoipa::openapi::OpenApi, catalog: &Catalog) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let key = scope(Some(patterns::key_scope(catalog)));
    components
        .schemas
        .insert("Scope".into(), key.build().into());
    let product = match patterns::product_scope(catalog) {
        Some(pattern) => scope(Some(pattern)).build(),
        None => ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("This server has no product scopes."))
            .min_length(Some(1))
            .max_length(Some(0))
            .build(),
    };
    components
        .schemas
        .insert("ProductScope".into(), product.into());
}
