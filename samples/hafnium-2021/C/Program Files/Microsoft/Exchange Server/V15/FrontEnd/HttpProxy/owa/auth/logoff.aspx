<%@ Page Language="C#" AutoEventWireup="false" Inherits="Microsoft.Exchange.HttpProxy.Logoff" %>
<%@ Import Namespace="Microsoft.Exchange.HttpProxy" %>
<!DOCTYPE html>
<html>
<head>
<meta http-equiv="X-UA-Compatible" content="IE=10" />
<meta name="robots" content="noindex, nofollow" />
<title>Outlook</title>
<link rel="stylesheet" type="text/css" href="/owa/auth/15.2.792/themes/resources/logon.css" />
</head>
<body class="signInBg">
<div>You have signed out of Outlook.</div>
<a href="/owa/">Sign in again</a>
</body>
</html>
