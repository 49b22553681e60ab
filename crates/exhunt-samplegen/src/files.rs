//! Plain files of the collection: legitimate OWA/ECP pages and web.config files (short texts
//! written for this project, not copies of Microsoft's), the OAB virtual-directory dump that
//! CVE-2021-27065 leaves behind, and a minimal stored-entry zip writer.

use crate::case::EX;
use crate::data::{FQDN, HOST, OWA_AUTH_LEGIT};
use crate::store::Store;

fn page(title: &str, inherits: &str, body: &str) -> Vec<u8> {
    format!(
        "<%@ Page Language=\"C#\" AutoEventWireup=\"false\" Inherits=\"Microsoft.Exchange.HttpProxy.{inherits}\" %>\r\n\
<%@ Import Namespace=\"Microsoft.Exchange.HttpProxy\" %>\r\n\
<!DOCTYPE html>\r\n<html>\r\n<head>\r\n<meta http-equiv=\"X-UA-Compatible\" content=\"IE=10\" />\r\n\
<meta name=\"robots\" content=\"noindex, nofollow\" />\r\n<title>{title}</title>\r\n\
<link rel=\"stylesheet\" type=\"text/css\" href=\"/owa/auth/15.2.792/themes/resources/logon.css\" />\r\n</head>\r\n\
<body class=\"signInBg\">\r\n{body}\r\n</body>\r\n</html>\r\n"
    )
    .into_bytes()
}

/// Write the legitimate web content of the server into the store.
pub fn static_files(st: &mut Store) {
    let auth = format!("{EX}/FrontEnd/HttpProxy/owa/auth");
    for name in OWA_AUTH_LEGIT {
        let (title, inherits, body) = match name {
            "logon.aspx" => (
                "Outlook",
                "Logon",
                "<form action=\"/owa/auth.owa\" method=\"POST\" name=\"logonForm\" autocomplete=\"off\">\r\n\
<input type=\"hidden\" name=\"destination\" value=\"<%=Destination%>\">\r\n\
<input type=\"hidden\" name=\"flags\" value=\"4\">\r\n\
<label for=\"username\">Domain\\user name:</label> <input id=\"username\" name=\"username\" type=\"text\">\r\n\
<label for=\"password\">Password:</label> <input id=\"password\" name=\"password\" type=\"password\">\r\n\
<div class=\"signinbutton\" role=\"button\" onclick=\"clkLgn()\">sign in</div>\r\n</form>",
            ),
            "errorFE.aspx" => (
                "Error",
                "ErrorFE",
                "<div class=\"errorHeader\">Something went wrong</div>\r\n<div class=\"errorDetails\"><%=ErrorMessage%></div>",
            ),
            "ExpiredPassword.aspx" => (
                "Outlook",
                "ExpiredPassword",
                "<form action=\"/owa/auth/expiredpassword.aspx\" method=\"POST\">\r\n<div>Your password has expired. Enter a new password.</div>\r\n</form>",
            ),
            "frowny.aspx" => (
                "Outlook",
                "Frowny",
                "<div class=\"frowny\">:-(</div>\r\n<div>Something went wrong. Try again later.</div>",
            ),
            "logoff.aspx" => (
                "Outlook",
                "Logoff",
                "<div>You have signed out of Outlook.</div>\r\n<a href=\"/owa/\">Sign in again</a>",
            ),
            "signout.aspx" => ("Outlook", "Signout", "<div>Signing out...</div>"),
            "OutlookCN.aspx" => (
                "Outlook",
                "OutlookCN",
                "<div>Please open this page in a supported browser.</div>",
            ),
            _ => (
                "Outlook",
                "RedirSuiteServiceProxy",
                "<div>Redirecting...</div>",
            ),
        };
        st.blob(format!("{auth}/{name}"), page(title, inherits, body));
    }
    st.blob(
        format!("{EX}/FrontEnd/HttpProxy/ecp/auth/TimeoutLogoff.aspx"),
        page(
            "Exchange admin center",
            "TimeoutLogoff",
            "<div>Your session has timed out. Please sign in again.</div>",
        ),
    );
    let web_config = |comment: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<configuration>\r\n  <!-- {comment} -->\r\n  <system.web>\r\n    <compilation defaultLanguage=\"c#\" debug=\"false\" targetFramework=\"4.7.2\" />\r\n    <httpRuntime maxRequestLength=\"35000\" requestValidationMode=\"2.0\" />\r\n    <customErrors mode=\"On\" defaultRedirect=\"/owa/auth/errorFE.aspx\" />\r\n  </system.web>\r\n  <system.webServer>\r\n    <modules>\r\n      <add name=\"ProxyModule\" type=\"Microsoft.Exchange.HttpProxy.ProxyModule, Microsoft.Exchange.FrontEndHttpProxy\" />\r\n    </modules>\r\n  </system.webServer>\r\n</configuration>\r\n"
        )
        .into_bytes()
    };
    st.blob(
        format!("{EX}/FrontEnd/HttpProxy/owa/web.config"),
        web_config("Outlook on the web front end"),
    );
    st.blob(
        format!("{EX}/FrontEnd/HttpProxy/ecp/web.config"),
        web_config("Exchange admin center front end"),
    );
    st.blob(
        "C/inetpub/wwwroot/web.config".into(),
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<configuration>\r\n  <system.webServer>\r\n    <httpRedirect enabled=\"false\" />\r\n  </system.webServer>\r\n</configuration>\r\n".to_vec(),
    );
}

/// Text dump of the OAB virtual directory (Get-OabVirtualDirectory | Format-List shape) as the
/// CVE-2021-27065 "reset" writes it, with the attacker's ExternalUrl (reference §4.1).
pub fn oab_dump(external_url: &str, vdir_guid: &str) -> Vec<u8> {
    let rows: [(&str, String); 33] = [
        ("RunspaceId", "b6a1f3d0-2c9e-4f81-a7d5-93e0c4b28f17".into()),
        ("PollInterval", "480".into()),
        ("OfflineAddressBooks", "".into()),
        ("RequireSSL", "False".into()),
        ("BasicAuthentication", "False".into()),
        ("WindowsAuthentication", "True".into()),
        ("OAuthAuthentication", "True".into()),
        ("MetabasePath", format!("IIS://{FQDN}/W3SVC/1/ROOT/OAB")),
        (
            "Path",
            r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\OAB".into(),
        ),
        ("ExtendedProtectionTokenChecking", "None".into()),
        ("ExtendedProtectionFlags", "".into()),
        ("ExtendedProtectionSPNList", "".into()),
        ("AdminDisplayVersion", "Version 15.2 (Build 792.3)".into()),
        ("Server", HOST.into()),
        (
            "InternalUrl",
            format!("https://{}/OAB", FQDN.to_lowercase()),
        ),
        (
            "InternalAuthenticationMethods",
            "{WindowsIntegrated, OAuth}".into(),
        ),
        ("ExternalUrl", external_url.into()),
        (
            "ExternalAuthenticationMethods",
            "{WindowsIntegrated, OAuth}".into(),
        ),
        ("AdminDisplayName", "".into()),
        ("ExchangeVersion", "0.10 (14.0.100.0)".into()),
        ("Name", "OAB (Default Web Site)".into()),
        (
            "DistinguishedName",
            format!(
                "CN=OAB (Default Web Site),CN=HTTP,CN=Protocols,CN={HOST},CN=Servers,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN=Contoso,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=contoso,DC=local"
            ),
        ),
        ("Identity", format!("{HOST}\\OAB (Default Web Site)")),
        ("Guid", vdir_guid.into()),
        (
            "ObjectCategory",
            "contoso.local/Configuration/Schema/ms-Exch-OAB-Virtual-Directory".into(),
        ),
        (
            "ObjectClass",
            "{top, msExchVirtualDirectory, msExchOABVirtualDirectory}".into(),
        ),
        ("WhenChanged", "3/2/2021 2:57:31 AM".into()),
        ("WhenCreated", "11/17/2020 10:21:40 AM".into()),
        ("WhenChangedUTC", "3/2/2021 2:57:31 AM".into()),
        ("WhenCreatedUTC", "11/17/2020 10:21:40 AM".into()),
        ("OrganizationId", "".into()),
        ("OriginatingServer", "DC01.contoso.local".into()),
        ("IsValid", "True".into()),
    ];
    let mut s = String::from("\r\n");
    for (k, v) in rows {
        s.push_str(&format!("{k:<32}: {v}\r\n"));
    }
    s.push_str(&format!("{:<32}: Unchanged\r\n\r\n\r\n", "ObjectState"));
    s.into_bytes()
}

/// CRC-32 (IEEE), bitwise: the zip writer is used on a few kilobytes.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A one-entry zip archive with the entry stored (method 0), per the PKWARE APPNOTE layout.
#[allow(clippy::too_many_arguments)]
pub fn zip_stored(
    name: &str,
    data: &[u8],
    y: u16,
    mo: u16,
    d: u16,
    h: u16,
    mi: u16,
    s: u16,
) -> Vec<u8> {
    let time = (h << 11) | (mi << 5) | (s / 2);
    let date = ((y - 1980) << 9) | (mo << 5) | d;
    let crc = crc32(data);
    let n = data.len() as u32;
    let mut z = Vec::with_capacity(data.len() + 200);
    let head = |z: &mut Vec<u8>| {
        z.extend_from_slice(&20u16.to_le_bytes()); // version needed
        z.extend_from_slice(&0u16.to_le_bytes()); // flags
        z.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        z.extend_from_slice(&time.to_le_bytes());
        z.extend_from_slice(&date.to_le_bytes());
        z.extend_from_slice(&crc.to_le_bytes());
        z.extend_from_slice(&n.to_le_bytes());
        z.extend_from_slice(&n.to_le_bytes());
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes()); // extra
    };
    z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    head(&mut z);
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(data);
    let cd = z.len() as u32;
    z.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    z.extend_from_slice(&20u16.to_le_bytes()); // version made by
    head(&mut z);
    z.extend_from_slice(&0u16.to_le_bytes()); // comment
    z.extend_from_slice(&0u16.to_le_bytes()); // disk
    z.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
    z.extend_from_slice(&0x20u32.to_le_bytes()); // external attrs: archive
    z.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    z.extend_from_slice(name.as_bytes());
    let cd_len = z.len() as u32 - cd;
    z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    z.extend_from_slice(&[0, 0, 0, 0]);
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&1u16.to_le_bytes());
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&cd.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
    }
}
