import { migrations } from './migrations';
import { UserEntity } from './user-entity';

/** The users database's schema: its entities and every migration, oldest first. */
export const usersDatabase = { entities: [UserEntity], migrations };
