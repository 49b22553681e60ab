<%@ Page Language="C#" AutoEventWireup="false" Inherits="Microsoft.Exchange.HttpProxy.Logon" %>
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
<form action="/owa/auth.owa" method="POST" name="logonForm" autocomplete="off">
<input type="hidden" name="destination" value="<%=Destination%>">
<input type="hidden" name="flags" value="4">
<label for="username">Domain\user name:</label> <input id="username" name="username" type="text">
<label for="password">Password:</label> <input id="password" name="password" type="password">
<div class="signinbutton" role="button" onclick="clkLgn()">sign in</div>
</form>
</body>
</html>
