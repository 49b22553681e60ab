<%@ Page Language="C#" AutoEventWireup="false" Inherits="Microsoft.Exchange.HttpProxy.TimeoutLogoff" %>
<%@ Import Namespace="Microsoft.Exchange.HttpProxy" %>
<!DOCTYPE html>
<html>
<head>
<meta http-equiv="X-UA-Compatible" content="IE=10" />
<meta name="robots" content="noindex, nofollow" />
<title>Exchange admin center</title>
<link rel="stylesheet" type="text/css" href="/owa/auth/15.2.792/themes/resources/logon.css" />
</head>
<body class="signInBg">
<div>Your session has timed out. Please sign in again.</div>
</body>
</html>
