"""Finding the people of one's schools and acting on their accounts."""
