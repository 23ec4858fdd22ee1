"""Operations: application metrics shared by the API and the workers."""
