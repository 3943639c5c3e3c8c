//! What the names around an ExternalSecret say a secret is for: words of
//! keys and names, classified, and the keys a template reads.

/// Whether a template value reads the key `key` (`{{ .password }}`, `{{ index . "client-secret" }}`).
pub(super) fn references(template: &str, key: &str) -> bool {
    if template.contains(&format!("\"{key}\"")) || template.contains(&format!("`{key}`")) {
        return true;
    }
    let dotted = format!(".{key}");
    template.match_indices(&dotted).any(|(i, _)| {
        template[i + dotted.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

#[derive(Debug, PartialEq)]
pub(super) enum Class {
    /// A client id or client secret.
    Credential,
    /// Names OIDC, OAuth or SSO, and nothing the app keeps to itself.
    Sso,
    /// Something only the app uses: a cookie or session secret, a database password.
    AppOnly,
    /// Says nothing: `password`, `secret`, `value`.
    Generic,
    Other,
}

/// Words that name a secret only the application itself uses.
const APP_ONLY: &[&str] = &[
    "admin",
    "cookie",
    "csrf",
    "database",
    "db",
    "dragonfly",
    "encrypt",
    "encryption",
    "hmac",
    "jwt",
    "mariadb",
    "mongo",
    "mongodb",
    "mysql",
    "pg",
    "postgres",
    "postgresql",
    "redis",
    "root",
    "salt",
    "session",
    "valkey",
];

/// Words that say nothing about what a secret is for.
const GENERIC: &[&str] = &[
    "credential",
    "credentials",
    "generated",
    "key",
    "pass",
    "passwd",
    "password",
    "pwd",
    "random",
    "secret",
    "token",
    "value",
];

pub(super) fn classify(s: &str) -> Class {
    let t = tokens(s);
    let credential = t
        .windows(2)
        .any(|w| w[0] == "client" && (w[1] == "secret" || w[1] == "id"))
        || t.iter().any(|x| x == "clientsecret" || x == "clientid");
    if credential {
        return Class::Credential;
    }
    let sso = t
        .iter()
        .any(|x| x == "sso" || x.contains("oidc") || x.contains("oauth"));
    let app_only = t.iter().any(|x| APP_ONLY.contains(&x.as_str()));
    if sso && !app_only {
        Class::Sso
    } else if app_only {
        Class::AppOnly
    } else if t.iter().all(|x| GENERIC.contains(&x.as_str())) {
        Class::Generic
    } else {
        Class::Other
    }
}

/// Lower-case words of a name: split on anything not alphanumeric (`-_./`), at
/// camelCase boundaries (`clientSecret`, `SSOSecret`) and between letters and digits.
fn tokens(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if !cur.is_empty() {
            let p = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (p.is_lowercase() && c.is_uppercase())
                || (p.is_uppercase() && c.is_uppercase() && next_lower)
                || (p.is_alphabetic() != c.is_alphabetic());
            if boundary {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_on_separators_and_case() {
        assert_eq!(
            tokens("OAUTH2_PROXY_CLIENT_SECRET"),
            ["oauth", "2", "proxy", "client", "secret"]
        );
        assert_eq!(tokens("clientSecret"), ["client", "secret"]);
        assert_eq!(tokens("mySSOSecret"), ["my", "sso", "secret"]);
        assert_eq!(
            tokens("harbor.oidc/client-id"),
            ["harbor", "oidc", "client", "id"]
        );
    }

    #[test]
    fn classifies_names() {
        assert_eq!(
            classify("GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"),
            Class::Credential
        );
        assert_eq!(classify("clientId"), Class::Credential);
        assert_eq!(classify("client_secret"), Class::Credential);
        assert_eq!(classify("harbor-oidc"), Class::Sso);
        assert_eq!(classify("vault-sso"), Class::Sso);
        assert_eq!(classify("OAUTH2_PROXY_COOKIE_SECRET"), Class::AppOnly);
        assert_eq!(
            classify("AUTHELIA_IDENTITY_PROVIDERS_OIDC_HMAC_SECRET"),
            Class::AppOnly
        );
        assert_eq!(classify("password"), Class::Generic);
        assert_eq!(classify("lasso-secret"), Class::Other);
        assert_eq!(classify("assoc-db"), Class::AppOnly);
        assert_eq!(classify("espresso"), Class::Other);
        assert_eq!(classify("SECRET_KEY"), Class::Generic);
    }

    #[test]
    fn template_references() {
        assert!(references("{{ .password }}", "password"));
        assert!(references("{{ .password | b64enc }}", "password"));
        assert!(!references("{{ .passwordHash }}", "password"));
        assert!(references(
            "{{ index . \"client-secret\" }}",
            "client-secret"
        ));
        assert!(!references("{{ .client_id }}", "password"));
    }
}
