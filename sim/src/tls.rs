//! HTTPS material: a local CA (created once, kept in the TLS directory so clients trust it
//! once) and a server certificate signed by it for 127.0.0.1, ::1, localhost and any
//! `--hostname`, made fresh at each start (it is cheap: ECDSA P-256).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub const CA_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca-key.pem";

pub struct TlsMaterial {
    pub server_config: Arc<rustls::ServerConfig>,
    pub ca_pem: String,
    pub ca_path: PathBuf,
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "aksim local CA");
    dn.push(DnType::OrganizationName, "aksim");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    // Fixed validity so the re-created issuer is identical across restarts.
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    params
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    fs::write(path, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Loads the CA from `dir` (creating it on first use) and issues a server certificate.
pub fn load_or_create(dir: &Path, hostnames: &[String]) -> Result<TlsMaterial, String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create TLS dir {}: {e}", dir.display()))?;
    let ca_path = dir.join(CA_FILE);
    let key_path = dir.join(CA_KEY_FILE);
    let (ca_key, ca_pem) = match (fs::read_to_string(&key_path), fs::read_to_string(&ca_path)) {
        (Ok(key_pem), Ok(ca_pem)) => {
            let key = KeyPair::from_pem(&key_pem)
                .map_err(|e| format!("{} is not a valid key: {e}", key_path.display()))?;
            (key, ca_pem)
        }
        _ => {
            let key = KeyPair::generate().map_err(|e| e.to_string())?;
            let cert = ca_params().self_signed(&key).map_err(|e| e.to_string())?;
            write_private(&key_path, &key.serialize_pem())
                .map_err(|e| format!("cannot write {}: {e}", key_path.display()))?;
            fs::write(&ca_path, cert.pem())
                .map_err(|e| format!("cannot write {}: {e}", ca_path.display()))?;
            (key, cert.pem())
        }
    };
    let issuer = ca_params()
        .self_signed(&ca_key)
        .map_err(|e| e.to_string())?;

    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    for h in hostnames {
        if !h.trim().is_empty() && !names.contains(h) {
            names.push(h.trim().to_owned());
        }
    }
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "aksim");
    params.distinguished_name = dn;
    params.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => n
                .clone()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|e| format!("{n}: {e}")),
        })
        .collect::<Result<_, _>>()?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(365);
    let server_key = KeyPair::generate().map_err(|e| e.to_string())?;
    let server_cert = params
        .signed_by(&server_key, &issuer, &ca_key)
        .map_err(|e| e.to_string())?;

    let chain = vec![
        server_cert.der().clone(),
        CertificateDer::from(pem_to_der(&ca_pem)?),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        server_config: Arc::new(config),
        ca_pem,
        ca_path,
    })
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    let mut reader = std::io::BufReader::new(pem.as_bytes());
    let first = rustls_pemfile::certs(&mut reader).next();
    first
        .ok_or_else(|| "ca.pem holds no certificate".to_owned())?
        .map(|c| c.to_vec())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_is_reused_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), &["sim.test".into()]).unwrap();
        let second = load_or_create(dir.path(), &[]).unwrap();
        assert_eq!(first.ca_pem, second.ca_pem);
        assert!(first.ca_path.ends_with("ca.pem"));
    }
}
