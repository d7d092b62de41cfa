"""EduConnect IdP: the French education system's single sign-on as an OpenID Connect provider."""
