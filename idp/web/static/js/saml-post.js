// Sends the SAML message on to the service at once; without JavaScript the button does it.
document.getElementById("saml-post").submit();
