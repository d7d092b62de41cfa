""" "Mon compte": what a signed-in person sees and changes."""
