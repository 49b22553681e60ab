// ASP.NET pages that execute, load, write or upload attacker-controlled data.
// Written by the exhunt team from public descriptions of Exchange webshells:
//  - CISA AA21-062A and MAR-10328877 (uploaders, StreamWriter shells, SimpleSeeSharp)
//  - Volexity, "Operation Exchange Marauder" (2021-03-02)
//  - CERT.LV exchange_webshell_detection keyword list (processstartinfo, httppostedfile, assembly.load, ...)
// Each rule requires an ASP.NET server-side marker so that plain HTML/JS never matches.

private rule exhunt_aspnet_server_code
{
    meta:
        description = "Helper: text is an ASP.NET page, handler, service or user control with server-side code"
        author = "exhunt team"
    strings:
        $d1 = /<%@\s*(Page|WebHandler|WebService|Control|Master|Assembly|Import)\b/ nocase ascii wide
        $d2 = /<script[^>]{0,120}runat\s*=\s*["']?server/ nocase ascii wide
        $d3 = /<%[^@=#:$\-]/ ascii wide
    condition:
        any of them
}

rule exhunt_aspx_process_exec
{
    meta:
        description = "ASP.NET page that starts a command interpreter with user-supplied arguments (command webshell)"
        reference = "https://www.cisa.gov/news-events/cybersecurity-advisories/aa21-062a"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.execution attack.t1059.003"
        severity = "critical"
    strings:
        $p1 = "ProcessStartInfo" nocase ascii wide
        $p2 = /Process\s*\.\s*Start\s*\(/ nocase ascii wide
        $p3 = /new\s+(System\.Diagnostics\.)?Process\s*(\(\s*\))?/ nocase ascii wide
        $p4 = /StartInfo\s*\.\s*FileName/ nocase ascii wide
        $s1 = "cmd.exe" nocase ascii wide
        $s2 = /["']\s*\/c\s/ nocase ascii wide
        $s3 = "powershell" nocase ascii wide
        $s4 = "RedirectStandardOutput" nocase ascii wide
        $in1 = /Request\s*(\.\s*(Item|Form|QueryString|Params|Headers|Cookies)\s*)?[\[\(]/ nocase ascii wide
        $in2 = /\.Text\b/ ascii wide
        $in3 = /\.Arguments\s*=/ nocase ascii wide
    condition:
        filesize < 5MB and exhunt_aspnet_server_code and any of ($p*) and any of ($s*) and any of ($in*)
}

rule exhunt_aspx_assembly_load_request
{
    meta:
        description = "ASP.NET page that loads a .NET assembly from request data (in-memory payload loader: Godzilla/Behinder style)"
        reference = "https://unit42.paloaltonetworks.com/manageengine-godzilla-nglite-kdcsponge/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.defense_evasion attack.t1620"
        severity = "critical"
    strings:
        $load = /Assembly\s*\.\s*(Load|LoadFrom|LoadFile)\s*\(/ nocase ascii wide
        $in1 = /Request\s*(\.\s*(Item|Form|QueryString|Params|Headers|Cookies)\s*)?\[/ nocase ascii wide
        $in2 = /Request\s*\.\s*(BinaryRead|InputStream|Form\s*\.\s*Get)/ nocase ascii wide
        $in3 = /Request\s*\(/ nocase ascii wide
    condition:
        filesize < 5MB and exhunt_aspnet_server_code and $load and any of ($in*)
}

rule exhunt_aspx_uploader
{
    meta:
        description = "ASP.NET page that saves an uploaded file to disk (file-drop webshell)"
        reference = "https://www.cisa.gov/news-events/analysis-reports/ar21-084a"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.command_and_control attack.t1105"
        severity = "high"
    strings:
        $save1 = /Request\s*\.\s*Files\s*[\[\(][^\]\)]{0,40}[\]\)]\s*\.\s*SaveAs\s*\(/ nocase ascii wide
        $save2 = /PostedFile\s*\.\s*SaveAs\s*\(/ nocase ascii wide
        $posted = "HttpPostedFile" nocase ascii wide
        $files = /Request\s*\.\s*Files/ nocase ascii wide
        $w1 = /\.\s*SaveAs\s*\(/ nocase ascii wide
        $w2 = /FileMode\s*\.\s*(Create|CreateNew|OpenOrCreate)/ nocase ascii wide
        $w3 = /File\s*\.\s*WriteAllBytes\s*\(/ nocase ascii wide
    condition:
        filesize < 5MB and exhunt_aspnet_server_code and (
            any of ($save*) or (($posted or $files) and any of ($w*))
        )
}

rule exhunt_aspx_streamwriter_request
{
    meta:
        description = "ASP.NET page that writes request data into a file named by the request (StreamWriter + Request.Form)"
        reference = "https://www.cisa.gov/news-events/cybersecurity-advisories/aa21-062a"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003"
        severity = "critical"
    strings:
        $sw1 = /StreamWriter\s*\(\s*(Server\s*\.\s*MapPath\s*\()?\s*Request/ nocase ascii wide
        $sw2 = /File\s*\.\s*(WriteAllText|WriteAllBytes|AppendAllText)\s*\(\s*(Server\s*\.\s*MapPath\s*\()?\s*Request/ nocase ascii wide
        $w = /\.\s*Write(Line)?\s*\(\s*Request\s*(\.\s*(Item|Form|QueryString|Params)\s*)?[\[\(]/ nocase ascii wide
        $sw = "StreamWriter" nocase ascii wide
    condition:
        filesize < 5MB and exhunt_aspnet_server_code and (any of ($sw1, $sw2) or ($sw and $w))
}

rule exhunt_aspx_sql_console
{
    meta:
        description = "ASP.NET page that runs SQL typed by the visitor against a connection string typed by the visitor (database webshell)"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.collection attack.t1213"
        severity = "high"
    strings:
        $conn = /(Sql|OleDb|Odbc)Connection/ nocase ascii wide
        $cs = /ConnectionString\s*=\s*("[^"\r\n]{0,80}"\s*\+\s*)?[A-Za-z_][A-Za-z0-9_]{0,40}\s*\.\s*(Text|Value)\b/ nocase ascii wide
        $cs_req = /ConnectionString\s*=\s*("[^"\r\n]{0,80}"\s*\+\s*)?Request/ nocase ascii wide
        $cmd1 = /(Sql|OleDb|Odbc)Command\s*\(\s*[A-Za-z_][A-Za-z0-9_]{0,40}\s*\.\s*(Text|Value)\b/ nocase ascii wide
        $cmd2 = /(Sql|OleDb|Odbc)Command\s*\(\s*Request/ nocase ascii wide
        $cmd3 = /(Sql|OleDb|Odbc)Command\s*\(\s*"sp_/ nocase ascii wide
    condition:
        filesize < 5MB and exhunt_aspnet_server_code and $conn and any of ($cs*) and any of ($cmd*)
}

rule exhunt_aspx_file_manager
{
    meta:
        description = "ASP.NET page that browses directories and serves or deletes files chosen by the request (file-manager webshell)"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.collection attack.t1005"
        severity = "high"
    strings:
        $list1 = /\.\s*GetDirectories\s*\(/ nocase ascii wide
        $list2 = /\.\s*GetFiles\s*\(/ nocase ascii wide
        $act1 = /Response\s*\.\s*(WriteFile|TransmitFile|BinaryWrite)\s*\(/ nocase ascii wide
        $act2 = /File\s*\.\s*(Delete|Move|Copy|ReadAllBytes)\s*\(/ nocase ascii wide
        $act3 = /Directory\s*\.\s*(Delete|CreateDirectory)\s*\(/ nocase ascii wide
        $in = /Request\s*(\.\s*(Item|Form|QueryString|Params)\s*)?[\[\(]/ nocase ascii wide
    condition:
        filesize < 5MB and exhunt_aspnet_server_code and all of ($list*) and any of ($act*) and $in
}
