//! Parsing of container image references (`[host/]repo[:tag][@digest]`).

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Registry {
    /// `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`
    EcrPrivate {
        account: String,
        region: String,
    },
    /// `public.ecr.aws`
    EcrPublic,
    /// Docker Hub (`docker.io`, `registry-1.docker.io`, or no host at all).
    DockerHub,
    Other {
        host: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    pub registry: Registry,
    pub host: String,
    /// Repository path, with Docker Hub's implicit `library/` added.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// The tag or digest a pull asks for (`latest` when neither is given).
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    pub fn is_ecr_private(&self) -> bool {
        matches!(self.registry, Registry::EcrPrivate { .. })
    }
}

fn ecr_host() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
            .expect("valid ECR host regex")
    })
}

/// Parse an image reference the way Docker and containerd do.
pub fn parse(image: &str) -> ImageRef {
    let image = image.trim();
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d.to_string())),
        None => (image, None),
    };
    // The first component is a host when it has a dot or a port, or is localhost.
    let (host, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    // A tag is a ':' after the last '/', so registry ports are not mistaken for tags.
    let (repository, tag) = match path.rfind(':') {
        Some(i) if !path[i..].contains('/') => {
            (path[..i].to_string(), Some(path[i + 1..].to_string()))
        }
        _ => (path.clone(), None),
    };
    let lower_host = host.to_ascii_lowercase();
    let (registry, repository) = if let Some(c) = ecr_host().captures(&lower_host) {
        (
            Registry::EcrPrivate {
                account: c[1].to_string(),
                region: c[2].to_string(),
            },
            repository,
        )
    } else if lower_host == "public.ecr.aws" {
        (Registry::EcrPublic, repository)
    } else if matches!(
        lower_host.as_str(),
        "docker.io" | "registry-1.docker.io" | "index.docker.io"
    ) {
        let repo = if repository.contains('/') {
            repository
        } else {
            format!("library/{repository}")
        };
        (Registry::DockerHub, repo)
    } else {
        (Registry::Other { host: host.clone() }, repository)
    };
    ImageRef {
        registry,
        host,
        repository,
        tag,
        digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_private_with_tag() {
        let r = parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web:v3");
        assert_eq!(
            r.registry,
            Registry::EcrPrivate {
                account: "123456789012".into(),
                region: "us-east-1".into()
            }
        );
        assert_eq!(r.repository, "team/web");
        assert_eq!(r.tag.as_deref(), Some("v3"));
        assert_eq!(r.reference(), "v3");
    }

    #[test]
    fn ecr_digest_and_fips_and_china() {
        let r = parse("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/web@sha256:abcd");
        assert!(r.is_ecr_private());
        assert_eq!(r.digest.as_deref(), Some("sha256:abcd"));
        assert_eq!(r.reference(), "sha256:abcd");
        let cn = parse("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/web");
        assert_eq!(
            cn.registry,
            Registry::EcrPrivate {
                account: "123456789012".into(),
                region: "cn-north-1".into()
            }
        );
        assert_eq!(cn.reference(), "latest");
    }

    #[test]
    fn docker_hub_implicit_library() {
        let r = parse("nginx:1.27");
        assert_eq!(r.registry, Registry::DockerHub);
        assert_eq!(r.repository, "library/nginx");
        let r = parse("bitnami/redis");
        assert_eq!(r.repository, "bitnami/redis");
        assert_eq!(r.reference(), "latest");
    }

    #[test]
    fn other_registry_with_port() {
        let r = parse("registry.example.com:5000/app/api:2.0");
        assert_eq!(
            r.registry,
            Registry::Other {
                host: "registry.example.com:5000".into()
            }
        );
        assert_eq!(r.repository, "app/api");
        assert_eq!(r.tag.as_deref(), Some("2.0"));
        assert_eq!(
            parse("public.ecr.aws/nginx/nginx:latest").registry,
            Registry::EcrPublic
        );
        assert_eq!(
            parse("localhost/app").registry,
            Registry::Other {
                host: "localhost".into()
            }
        );
    }
}

/// The platforms an image manifest declares: every `manifests[].platform` of
/// an image index / manifest list; not applicable for a single-platform
/// manifest, whose platform lives in its config blob (not readable without
/// downloading a layer).
pub fn manifest_platforms(manifest: &str) -> crate::evidence::Fact<Vec<crate::evidence::Platform>> {
    use crate::evidence::{Fact, Platform};
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(manifest) else {
        return Fact::Failed {
            action: "ecr:BatchGetImage".into(),
            error: "the manifest is not JSON".into(),
        };
    };
    let Some(list) = doc.get("manifests").and_then(|m| m.as_array()) else {
        return Fact::not_applicable(
            "single-platform manifest: its platform is in the image config",
        );
    };
    let platforms = list
        .iter()
        .filter_map(|m| m.get("platform"))
        .filter_map(|p| {
            Some(Platform {
                os: p.get("os")?.as_str()?.to_string(),
                architecture: p.get("architecture")?.as_str()?.to_string(),
                variant: p
                    .get("variant")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
            })
        })
        // Attestation manifests say `unknown/unknown`; they are not runnable platforms.
        .filter(|p| p.os != "unknown")
        .collect();
    Fact::gathered(platforms)
}

/// The platform a Docker schema 1 manifest names: `architecture` at the top,
/// `os` in the newest history entry's `v1Compatibility` JSON (Linux when it
/// does not say). `None` for any other manifest.
pub fn schema1_platform(manifest: &str) -> Option<crate::evidence::Platform> {
    let doc: serde_json::Value = serde_json::from_str(manifest).ok()?;
    if doc.get("schemaVersion").and_then(|v| v.as_i64()) != Some(1) {
        return None;
    }
    let architecture = doc.get("architecture")?.as_str()?.to_string();
    let os = doc
        .get("history")
        .and_then(|h| h.as_array())
        .and_then(|h| h.first())
        .and_then(|e| e.get("v1Compatibility"))
        .and_then(|v| v.as_str())
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .and_then(|v| v.get("os").and_then(|o| o.as_str()).map(str::to_string))
        .unwrap_or_else(|| "linux".to_string());
    Some(crate::evidence::Platform {
        os,
        architecture,
        variant: None,
    })
}

#[cfg(test)]
mod manifest_tests {
    use super::*;
    use crate::evidence::Fact;

    #[test]
    fn image_index_platforms_without_attestations() {
        let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":1,"platform":{"architecture":"arm64","os":"linux"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","size":1,"platform":{"architecture":"unknown","os":"unknown"}}]}"#;
        match manifest_platforms(index) {
            Fact::Gathered { value } => {
                assert_eq!(value.len(), 1);
                assert_eq!(value[0].architecture, "arm64");
            }
            other => panic!("{other:?}"),
        }
        let single = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"digest":"sha256:c"},"layers":[]}"#;
        assert!(matches!(
            manifest_platforms(single),
            Fact::NotApplicable { .. }
        ));
        assert_eq!(schema1_platform(single), None);
    }

    #[test]
    fn schema1_names_its_architecture() {
        let v1 = r#"{"schemaVersion":1,"name":"web","tag":"v2","architecture":"arm64","fsLayers":[],
            "history":[{"v1Compatibility":"{\"architecture\":\"arm64\",\"os\":\"linux\",\"id\":\"x\"}"}]}"#;
        let p = schema1_platform(v1).unwrap();
        assert_eq!((p.os.as_str(), p.architecture.as_str()), ("linux", "arm64"));
    }
}
