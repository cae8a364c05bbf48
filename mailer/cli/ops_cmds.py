"""Operations commands: doctor."""
