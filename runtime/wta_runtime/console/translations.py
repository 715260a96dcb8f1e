"""The console's words in Brazilian Portuguese; English is the text in the templates itself."""

from __future__ import annotations

PT_BR: dict[str, str] = {
    "Active since": "Ativas desde",
    "assigned it to": "atribuiu a",
    "released it to the bot": "devolveu ao robô",
    "closed it": "encerrou",
    "Attach a file (up to 5 MB)": "Anexar um arquivo (até 5 MB)",
    "file(s) sent": "arquivo(s) enviado(s)",
    "Add note": "Adicionar nota",
    "after hours": "fora do horário",
    "people back": "equipe volta",
    "Opted out since": "Descadastrado desde",
    "Replies are refused: the contact opted out, and nothing reaches them until they opt back in "
    "by writing an opt-in keyword (e.g. START).": (
        "Respostas recusadas: o contato se descadastrou, e nada chega a ele até que volte a se "
        "cadastrar escrevendo uma palavra de retorno (por exemplo, VOLTAR)."
    ),
    "All conversations": "Todas as conversas",
    "Assign to": "Atribuir a",
    "Assign to me": "Atribuir a mim",
    "Assign": "Atribuir",
    "Assigned to": "Atribuída a",
    "assigned to": "atribuída a",
    "Close": "Encerrar",
    "Console": "Console",
    "Contact (number or name)": "Contato (número ou nome)",
    "Contact": "Contato",
    "contact": "contato",
    "Conversations": "Conversas",
    "Email": "E-mail",
    "Internal note (never sent)": "Nota interna (nunca enviada)",
    "Last activity": "Última atividade",
    "Log in": "Entrar",
    "Log out": "Sair",
    "Newer": "Mais recentes",
    "No conversation matches.": "Nenhuma conversa encontrada.",
    "Nobody is waiting.": "Ninguém está esperando.",
    "nobody": "ninguém",
    "note by": "nota de",
    "Older": "Mais antigas",
    "Page": "Página",
    "Password": "Senha",
    "person": "pessoa",
    "Queue": "Fila",
    "Reason": "Motivo",
    "Release to the bot": "Devolver ao robô",
    "Reply on WhatsApp": "Responder no WhatsApp",
    "Search": "Buscar",
    "Send the template": "Enviar o modelo",
    "Send": "Enviar",
    "Started until": "Iniciadas até",
    "State": "Estado",
    "Tenant": "Cliente",
    "Text in messages": "Texto nas mensagens",
    "The contact's last message is more than 24 hours old: WhatsApp only accepts an approved "
    "template now.": "A última mensagem do contato tem mais de 24 horas: agora o WhatsApp só "
    "aceita um modelo aprovado.",
    "This tenant has no approved template, so nothing can be sent until the contact writes.": (
        "Este cliente não tem modelo aprovado; nada pode ser enviado até o contato escrever."
    ),
    "Too many failed attempts: wait 15 minutes and try again.": (
        "Tentativas demais: espere 15 minutos e tente de novo."
    ),
    "Waiting for a person": "Esperando uma pessoa",
    "Waiting since": "Esperando desde",
    "Wrong tenant, email or password.": "Cliente, e-mail ou senha incorretos.",
    "anyone": "qualquer pessoa",
    "attachment": "anexo",
    "attachment not kept": "anexo não guardado",
    "bot": "robô",
    "picture": "imagem",
    "Template": "Modelo",
    "e.g.": "ex.:",
    "English": "English",
    "Português": "Português",
}
